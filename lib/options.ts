import type { LogLevel } from 'fastify'
import type { AutoChecksOptions } from './checks/auto.js'
import { checkRules } from './engine/registry.js'
import type { CheckContext, CheckDefinition, CheckFunction, CheckOptions } from './engine/types.js'
import { FST_HEALTH_INVALID_OPTION, FST_HEALTH_UNKNOWN_OPTION } from './errors.js'
import { isLinkRelation, isUri } from './formats.js'
import type { OpenTelemetryOptions } from './metrics/open-telemetry.js'
import type { PrometheusOptions } from './metrics/prometheus.js'
import { processChecksProblem, type ProcessChecksOptions } from './process-checks.js'
import {
  type HistoryOptions, historyRule, resolveHistory, resolveStatusPage, type ResolvedStatusPage, type StatusPageOptions, statusPageRule
} from './history/options.js'
import type { HistorySizes } from './history/options.js'
import { type HealthRouteOptions, resolveRouteOptions, routeOptionsRule } from './route-options.js'
import { duration, firstMistake, isPlainObject, type Rule, text } from './rules.js'
import { isState, State, Status } from './states.js'
import { thresholdsProblem } from './thresholds.js'
import {
  checkView, type DetailOption, type HealthGroupOptions, type HealthView, isBuiltInView, parseSelector, type ProbeView, probeViews, resolveViews
} from './views.js'

export type { HealthGroupOptions }

// Each option is documented here, defaulted in `defaults` and checked in `rules`, side by side.

export interface FastifyHealthOptions {
  /** The service's name: `serviceId` in every answer. Required, non-empty. */
  serviceName: string
  /**
   * Where the health document is served.
   * @default '/health'
   */
  path?: string
  /** Public version of the service (`version`). */
  version?: string
  /** Implementation release: build, commit or semver (`releaseId`). */
  releaseId?: string
  /** Human-friendly description of the service (`description`). */
  description?: string
  /** Link relations to URIs (`links`). */
  links?: Record<string, string>
  /**
   * The state before any `setState*()` call.
   * @default State.NOINFO
   */
  initialState?: State
  /**
   * The Cache-Control header of every answer, or false to send none.
   * @default 'max-age=5'
   */
  cacheControl?: string | false
  /**
   * HTTP codes per status: pass and warn in 200-399, fail in 400-599.
   * @default { pass: 200, warn: 202, fail: 503 }
   */
  statusCodes?: Partial<Record<Status, number>>
  /**
   * Dependency checks: `{ 'postgres:responseTime': fn | { check: fn, close?, ...options } }`.
   * What a check returns is checked when it arrives (a status it does not know makes a failed
   * reading), not by the compiler here: Fastify's generic `register()` widens the status of a
   * check written inline to `string`. `health.addCheck()` types it strictly.
   */
  checks?: Record<string, CheckDefinition | CheckFunction | ((signal: AbortSignal, context: CheckContext) => unknown) | (CheckOptions & {
    check: (signal: AbortSignal, context: CheckContext) => unknown
    close?: () => void | Promise<void>
  })>
  /**
   * Checks for the datastore clients of @fastify/postgres, @fastify/redis and @fastify/mysql, and
   * for @fastify/under-pressure, found on the instance once every plugin has loaded: true, or the
   * check options to give them.
   * @default false
   */
  autoChecks?: boolean | AutoChecksOptions
  /**
   * Whether an answer shows `checks` and `output`, for everyone or per request (a function may
   * return a promise). Hidden by default: the details name the service's dependencies, which
   * helps an attacker; answers without them still give the status, its code and how many checks
   * fail or warn.
   * @default false
   */
  exposeDetails?: DetailOption
  /**
   * Built-in process checks: uptime, event loop delay and utilization, memory.
   * @default false
   */
  process?: boolean | ProcessChecksOptions
  /**
   * Orchestrator probe routes; false turns them off, a path or false per probe.
   * @default true (each at `{path}/{probe}`)
   */
  probes?: boolean | ProbePaths
  /**
   * Groups of checks, each served at its own path with its own detail policy and codes:
   * `{ db: { include: ['db:*'] } }` serves `/health/db`. A group named like a probe redefines it.
   * @default {}
   */
  groups?: Record<string, HealthGroupOptions>
  /**
   * Whether `GET {path}/checks/:name` answers the document of one check.
   * @default true
   */
  drillDown?: boolean
  /**
   * Milliseconds `health.shutdown()` keeps serving, not ready, before closing.
   * @default 10000
   */
  shutdownDelay?: number
  /**
   * Fastify route options for every health route: `config` (merged over the plugin's own:
   * `{ health: true, rateLimit: false, pressureHandler }`, see `HEALTH_ROUTE_CONFIG`),
   * `constraints`, and the hooks `onRequest`, `preValidation`, `preHandler`, `onSend`,
   * `onResponse`, `onError`, `onTimeout`, `onRequestAbort`.
   * @default {} (the config above)
   */
  routeOptions?: HealthRouteOptions
  /**
   * OpenTelemetry metrics: the overall and each check's status (state sets) and the run durations,
   * on `meterProvider`, or with true on the global MeterProvider of @opentelemetry/api (which you
   * install; no SDK is started). See the README's "Metrics and events".
   * @default false
   */
  openTelemetry?: boolean | OpenTelemetryOptions
  /**
   * Prometheus metrics, the same figures on a prom-client Registry (prom-client must be
   * installed): `{ registry }`. See the README's "Metrics and events".
   * @default undefined (none)
   */
  prometheus?: PrometheusOptions
  /**
   * Per check, a ring of its last readings and one of its status changes, and a ring of the
   * overall status's changes: `health.history()`, `GET {path}/checks/:name/history`. false turns
   * it (and its route) off.
   * @default { readings: 3600, changes: 100 }
   */
  history?: boolean | HistoryOptions
  /**
   * A status page for the person on call, at `{path}/ui`: true, or `{ path, refresh }`.
   * @default false
   */
  statusPage?: boolean | StatusPageOptions
  /** Fastify register option, honoured: prepended to every health route. */
  prefix?: string
  /**
   * Fastify register option, honoured: the log level of the health routes' request logs. Probes
   * come every few seconds, so Fastify's two info lines per request are left out by default;
   * warnings and errors stay. `'info'` brings the request lines back.
   * @default 'warn'
   */
  logLevel?: LogLevel
  /** Fastify register option, honoured: serializers of the health routes' request logs. */
  logSerializers?: Record<string, (value: any) => string>
}

/** Paths of the probe routes, each defaulting to `{path}/{probe}`, or false to leave one out. */
export type ProbePaths = { [P in ProbeView]?: string | false }

/**
 * A check by its name (`'db:responseTime'`), every check of a component (`'db:*'`), or every
 * check with a tag (`'tag:critical'`).
 */
export type GroupSelector = string

export const DEFAULT_SHUTDOWN_DELAY = 10_000
export const DEFAULT_CACHE_CONTROL = 'max-age=5'
export const DEFAULT_STATUS_CODES: Readonly<Record<Status, number>> = { pass: 200, warn: 202, fail: 503 }

const defaults = {
  path: '/health',
  initialState: State.NOINFO,
  cacheControl: DEFAULT_CACHE_CONTROL,
  statusCodes: DEFAULT_STATUS_CODES,
  checks: {},
  autoChecks: false,
  exposeDetails: false,
  process: false,
  probes: true,
  groups: {},
  drillDown: true,
  openTelemetry: false,
  shutdownDelay: DEFAULT_SHUTDOWN_DELAY,
  prefix: '',
  logLevel: 'warn'
} as const satisfies Partial<FastifyHealthOptions>

/** The options with every default filled in, and the routes' paths worked out. */
export interface ResolvedOptions {
  serviceName: string
  version?: string
  releaseId?: string
  description?: string
  links?: Record<string, string>
  initialState: State
  cacheControl: string | false
  statusCodes: Readonly<Record<Status, number>>
  logLevel: LogLevel
  logSerializers?: Record<string, (value: any) => string>
  /** The route options of every health route, the plugin's config under the user's. */
  routeOptions: HealthRouteOptions & { config: Record<string, unknown> }
  checks: NonNullable<FastifyHealthOptions['checks']>
  autoChecks: AutoChecksOptions | undefined
  exposeDetails: DetailOption
  process: ProcessChecksOptions | undefined
  /** The prefix of every route, applied by Fastify (the routes are registered under it). */
  prefix: string
  /** The views that are served: the health document, the probes, the groups. */
  views: HealthView[]
  /** The path of the check drill-down below the prefix, or undefined when it is off. */
  drillDown: string | undefined
  shutdownDelay: number
  /** undefined: off. */
  openTelemetry: OpenTelemetryOptions | undefined
  prometheus: PrometheusOptions | undefined
  /** The sizes of the history's rings; undefined: off. */
  history: HistorySizes | undefined
  /** undefined: off. */
  statusPage: ResolvedStatusPage | undefined
}

// What Node's HTTP server accepts in a header value: a CR or LF would fail every answer.
const INVALID_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/

const cacheControl: Rule = (value) =>
  value === false || (text(value) === undefined && !INVALID_HEADER_CHARACTER.test(value as string))
    ? undefined
    : 'must be false or a non-empty string without control characters'

const urlPath: Rule = (value) =>
  typeof value === 'string' && value.startsWith('/') ? undefined : 'must be a string that starts with "/"'

/**
 * A group's path: a static route, so no parameter, wildcard, query, fragment, space or control
 * character; and no percent-encoding, since routes are matched against the decoded path.
 */
const routePath: Rule = (value) =>
  urlPath(value) === undefined && !/[\s:*?#%]|\p{Cc}/u.test(value as string)
    ? undefined
    : 'must be a path that starts with "/", with no ":", "*", "?", "#", "%", white space or control character'

const links: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be an object of link relation to URI'
  const badKey = Object.keys(value).find((rel) => !isLinkRelation(rel))
  if (badKey !== undefined) return `has the key "${badKey}", which is neither a registered relation name (lower case, as "self") nor a URI`
  const bad = Object.keys(value).find((rel) => !isUri(value[rel]))
  return bad === undefined ? undefined : `has a link "${bad}" that is not a URI`
}

// HTTP forbids a body with these, and an answer without its document tells a reader nothing.
const BODILESS_CODES = new Set([204, 205, 304])
const codeRanges: Record<Status, [number, number]> = { pass: [200, 399], warn: [200, 399], fail: [400, 599] }

const statusCodes: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be an object like { pass: 200, warn: 202, fail: 503 }'
  for (const [status, code] of Object.entries(value)) {
    const range = Object.hasOwn(codeRanges, status) ? codeRanges[status as Status] : undefined
    if (range === undefined) return `has an unknown status "${status}" (expected pass, warn or fail)`
    if (!Number.isInteger(code) || (code as number) < range[0] || (code as number) > range[1]) {
      return `sets ${status} to ${String(code)}: the draft requires an integer in ${range[0]}-${range[1]}`
    }
    if (BODILESS_CODES.has(code as number)) return `sets ${status} to ${String(code)}, a code that cannot carry the health document`
  }
  return undefined
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

const probePaths: Rule = (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return `must be a boolean or { ${probeViews.join(', ')} } paths (or false each)`
  for (const [probe, path] of Object.entries(value)) {
    if (!(probeViews as string[]).includes(probe)) return `has an unknown probe "${probe}"`
    const problem = path === false || path === undefined ? undefined : routePath(path)
    if (problem !== undefined) return `sets ${probe} to a path that ${problem.replace(/^must be a path that /, '')}`
  }
  return undefined
}

/** A value as a message shows it, briefly. */
const shown = (value: unknown): string => typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? 'an object' : String(value)

const selectorList: Rule = (value) => {
  if (!Array.isArray(value)) return 'must be an array of check names, "component:*" patterns and "tag:<tag>" selectors'
  const bad = value.findIndex((item) => parseSelector(item) === undefined)
  return bad === -1 ? undefined : `has ${shown(value[bad])}, which is not a check name, a "component:*" pattern or "tag:<tag>"`
}

const exposeDetails: Rule = (value) =>
  typeof value === 'boolean' || typeof value === 'function' ? undefined : 'must be a boolean or a function of the request'

const groupRules: Record<keyof HealthGroupOptions, Rule> = {
  include: selectorList,
  exclude: selectorList,
  path: routePath,
  exposeDetails,
  statusCodes
}

// A group's name is its route's last segment by default, and how logs and errors name it.
const GROUP_NAME = /^[A-Za-z0-9][\w.-]*$/

/** What is wrong with one group, as `{ key: 'groups.db.include', problem }`; the probes option is read for probes. */
function groupMistake (name: string, group: unknown, probes: boolean | ProbePaths): { key: string, problem: string } | undefined {
  const key = `groups.${name}`
  if (name === 'health') return { key, problem: 'is the health document itself: its path, exposeDetails and statusCodes are the plugin\'s options' }
  if (!GROUP_NAME.test(name)) return { key, problem: 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)' }
  if (!isPlainObject(group)) return { key, problem: `must be an object { ${Object.keys(groupRules).join(', ')} }` }
  const mistake = firstMistake(group, groupRules)
  if (mistake?.problem !== undefined) return { key: `${key}.${mistake.key}`, problem: mistake.problem }
  if (mistake !== undefined) return { key, problem: `has an unknown option "${mistake.key}" (expected ${Object.keys(groupRules).join(', ')})` }
  if (!isBuiltInView(name)) return undefined
  const path = typeof probes === 'boolean' ? probes : probes[name as ProbeView]
  if (path === false) return { key, problem: `redefines the ${name} probe, which the probes option turns off` }
  if (typeof path === 'string' && group.path !== undefined) return { key: `${key}.path`, problem: `is set, and so is probes.${name}: give the path in one place` }
  return undefined
}

const { check: _function, ...checkOptionRules } = checkRules
const autoChecks: Rule = (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return 'must be a boolean or an object of check options'
  const { warn, fail, ...options } = value
  const mistake = firstMistake(options, checkOptionRules)
  if (mistake !== undefined) return mistake.problem === undefined ? `has an unknown check option "${mistake.key}"` : `sets ${mistake.key}: it ${mistake.problem}`
  return thresholdsProblem({ warn, fail })
}

/** Whether `value` has a method named each of `methods`. */
const hasMethods = (value: unknown, methods: string[]): boolean =>
  typeof value === 'object' && value !== null && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')

const openTelemetry: Rule = (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return 'must be a boolean or { meterProvider }'
  const mistake = firstMistake(value, {
    meterProvider: (provider) => hasMethods(provider, ['getMeter']) ? undefined : 'must be an OpenTelemetry MeterProvider (with getMeter())'
  })
  if (mistake === undefined) return undefined
  return mistake.problem === undefined ? `has an unknown option "${mistake.key}" (expected meterProvider)` : `sets ${mistake.key}: it ${mistake.problem}`
}

const prometheus: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be { registry }, a prom-client Registry'
  const mistake = firstMistake(value, {
    registry: (registry) => hasMethods(registry, ['registerMetric', 'getSingleMetric', 'removeSingleMetric'])
      ? undefined
      : 'must be a prom-client Registry (with registerMetric(), getSingleMetric() and removeSingleMetric())'
  })
  if (mistake !== undefined) return mistake.problem === undefined ? `has an unknown option "${mistake.key}" (expected registry)` : `sets ${mistake.key}: it ${mistake.problem}`
  return value.registry === undefined ? 'needs registry, a prom-client Registry' : undefined
}

const rules: Record<keyof FastifyHealthOptions, Rule> = {
  serviceName: text,
  path: routePath,
  version: text,
  releaseId: text,
  description: text,
  links,
  initialState: (value) => isState(value) ? undefined : 'must be one of the State values',
  cacheControl,
  statusCodes,
  checks: (value) => isPlainObject(value) ? undefined : 'must be an object of check name to function or { check, ...options }',
  autoChecks,
  exposeDetails,
  process: processChecksProblem,
  probes: probePaths,
  groups: (value) => isPlainObject(value) ? undefined : 'must be an object of group name to { include, exclude, path, exposeDetails, statusCodes }',
  drillDown: (value) => typeof value === 'boolean' ? undefined : 'must be a boolean',
  shutdownDelay: duration(0),
  routeOptions: routeOptionsRule,
  openTelemetry,
  prometheus,
  history: historyRule,
  statusPage: statusPageRule,
  prefix: (value) => value === '' ? undefined : urlPath(value),
  logLevel: (value) => typeof value === 'string' && LOG_LEVELS.includes(value) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`,
  logSerializers: (value) => isPlainObject(value) && Object.values(value).every((serializer) => typeof serializer === 'function')
    ? undefined
    : 'must be an object of serializer functions, as Fastify takes it'
}

/**
 * Checks every option up front and fills in the defaults, so that a mistake fails at
 * registration with an error that names the option, never later on a request.
 */
export function resolveOptions (input: unknown): ResolvedOptions {
  const options = typeof input === 'string' ? { serviceName: input } : input
  if (!isPlainObject(options)) {
    throw new FST_HEALTH_INVALID_OPTION('options', 'must be the service name or an options object')
  }
  const mistake = firstMistake(options, rules)
  if (mistake?.problem !== undefined) throw new FST_HEALTH_INVALID_OPTION(mistake.key, mistake.problem)
  if (mistake !== undefined) throw new FST_HEALTH_UNKNOWN_OPTION(mistake.key)
  if (options.serviceName === undefined) throw new FST_HEALTH_INVALID_OPTION('serviceName', 'is required')

  const given = options as unknown as FastifyHealthOptions
  const probes = given.probes ?? defaults.probes
  // A group set to undefined is left out, as an option is.
  const groups: Record<string, HealthGroupOptions> = {}
  for (const [name, group] of Object.entries<HealthGroupOptions | undefined>(given.groups ?? defaults.groups)) {
    if (group === undefined) continue
    const wrong = groupMistake(name, group, probes)
    if (wrong !== undefined) throw new FST_HEALTH_INVALID_OPTION(wrong.key, wrong.problem)
    groups[name] = group
  }
  const path = given.path ?? defaults.path
  const statusCodesGiven = { ...defaults.statusCodes, ...given.statusCodes }
  const exposeDetailsGiven = given.exposeDetails ?? defaults.exposeDetails
  const process = given.process ?? defaults.process
  const auto = given.autoChecks ?? defaults.autoChecks
  const otel = given.openTelemetry ?? defaults.openTelemetry
  const history = resolveHistory(given.history)
  const statusPage = resolveStatusPage(given.statusPage, path, history)
  if (statusPage.problem !== undefined) throw new FST_HEALTH_INVALID_OPTION('statusPage', statusPage.problem)
  return {
    serviceName: given.serviceName,
    version: given.version,
    releaseId: given.releaseId,
    description: given.description,
    // A copy: the answer is built from it, so later changes to the caller's object must not leak in.
    links: given.links === undefined ? undefined : { ...given.links },
    initialState: given.initialState ?? defaults.initialState,
    cacheControl: given.cacheControl ?? defaults.cacheControl,
    statusCodes: statusCodesGiven,
    logLevel: given.logLevel ?? defaults.logLevel,
    logSerializers: given.logSerializers,
    routeOptions: resolveRouteOptions(given.routeOptions),
    checks: given.checks ?? defaults.checks,
    autoChecks: auto === true ? {} : auto === false ? undefined : auto,
    exposeDetails: exposeDetailsGiven,
    process: process === true ? {} : process === false ? undefined : process,
    // Fastify joins a prefix and a path with one slash, whatever trails the prefix.
    prefix: (given.prefix ?? defaults.prefix).replace(/\/+$/, ''),
    views: resolveViews({ path, probes, groups, statusCodes: statusCodesGiven, exposeDetails: exposeDetailsGiven }),
    drillDown: (given.drillDown ?? defaults.drillDown) ? path.replace(/\/+$/, '') + checkView.path : undefined,
    shutdownDelay: given.shutdownDelay ?? defaults.shutdownDelay,
    openTelemetry: otel === true ? {} : otel === false ? undefined : { ...otel },
    prometheus: given.prometheus === undefined ? undefined : { ...given.prometheus },
    history,
    statusPage: statusPage.page
  }
}
