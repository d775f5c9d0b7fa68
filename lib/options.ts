import type { FastifyRequest, LogLevel } from 'fastify'
import type { ProcessChecksOptions } from './process-checks.js'
import type { CheckDefinition, CheckFunction } from './engine/types.js'
import { FST_HEALTH_INVALID_OPTION, FST_HEALTH_UNKNOWN_OPTION } from './errors.js'
import { millisecondsProblem } from './duration.js'
import { isUri } from './formats.js'
import { isState, State, Status } from './states.js'

export interface FastifyHealthOptions {
  /** The service's name: `serviceId` in every answer. Required, non-empty. */
  serviceName: string
  /** Where the health document is served. Default `/health`. */
  path?: string
  /** Public version of the service (`version`). */
  version?: string
  /** Implementation release: build, commit or semver (`releaseId`). */
  releaseId?: string
  /** Human-friendly description of the service (`description`). */
  description?: string
  /** Link relations to URIs (`links`). */
  links?: Record<string, string>
  /** The state before any `setState*()` call. Default `State.NOINFO`. */
  initialState?: State
  /** The Cache-Control header of every answer, or false to send none. Default `max-age=5`. */
  cacheControl?: string | false
  /** HTTP codes per status: pass and warn in 200-399, fail in 400-599. Default 200/202/503. */
  statusCodes?: Partial<Record<Status, number>>
  /** Dependency checks: `{ 'postgres:responseTime': fn | { check: fn, ...options } }`. */
  checks?: Record<string, CheckFunction | CheckDefinition>
  /** Whether an answer shows `checks` and `output`, for everyone or per request. Default true. */
  exposeDetails?: boolean | ((request: FastifyRequest) => boolean)
  /** Built-in process checks: uptime, event loop delay and utilization, memory. Default off. */
  process?: boolean | ProcessChecksOptions
  /** Orchestrator probe routes; false turns them off, a path or false per probe. Default on. */
  probes?: boolean | ProbePaths
  /** Milliseconds `health.shutdown()` keeps serving, not ready, before closing. Default 10000. */
  shutdownDelay?: number
  /** Fastify register option, honoured: prepended to `path`. */
  prefix?: string
  /** Fastify register option, honoured: the log level of the health routes' request logs. */
  logLevel?: LogLevel
  /** Fastify register option, honoured: serializers of the health routes' request logs. */
  logSerializers?: Record<string, (value: any) => string>
}

/** Paths of the probe routes; each defaults to `{path}/live`, `{path}/ready`, `{path}/started`. */
export interface ProbePaths {
  live?: string | false
  ready?: string | false
  started?: string | false
}

export interface ResolvedOptions {
  serviceName: string
  url: string
  version?: string
  releaseId?: string
  description?: string
  links?: Record<string, string>
  initialState: State
  cacheControl: string | false
  statusCodes: Readonly<Record<Status, number>>
  logLevel?: LogLevel
  logSerializers?: Record<string, (value: any) => string>
  checks: Record<string, CheckFunction | CheckDefinition>
  exposeDetails: boolean | ((request: FastifyRequest) => boolean)
  process: ProcessChecksOptions | undefined
  /** Full URLs of the probe routes that are on. */
  probes: { live?: string, ready?: string, started?: string }
  shutdownDelay: number
}

export const DEFAULT_SHUTDOWN_DELAY = 10_000
export const DEFAULT_CACHE_CONTROL = 'max-age=5'
export const DEFAULT_STATUS_CODES: Readonly<Record<Status, number>> = { pass: 200, warn: 202, fail: 503 }

/** Returns what is wrong with a value, or undefined when it is fine. */
type Rule = (value: unknown) => string | undefined

const text: Rule = (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string'

// What Node's HTTP server accepts in a header value: a CR or LF would fail every answer.
const INVALID_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/

const cacheControl: Rule = (value) =>
  value === false || (text(value) === undefined && !INVALID_HEADER_CHARACTER.test(value as string))
    ? undefined
    : 'must be false or a non-empty string without control characters'

const urlPath: Rule = (value) =>
  typeof value === 'string' && value.startsWith('/') ? undefined : 'must be a string that starts with "/"'

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const links: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be an object of link relation to URI'
  const bad = Object.keys(value).find((rel) => rel === '' || !isUri(value[rel]))
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
const milliseconds = (min: number): Rule => (value) => millisecondsProblem(value, min)

const probePaths: Rule = (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return 'must be a boolean or { live, ready, started } paths (or false each)'
  for (const [probe, path] of Object.entries(value)) {
    if (!['live', 'ready', 'started'].includes(probe)) return `has an unknown probe "${probe}"`
    if (path !== false && path !== undefined && urlPath(path) !== undefined) return `sets ${probe} to a path that does not start with "/"`
  }
  return undefined
}

const thresholds = (value: unknown): boolean =>
  typeof value === 'boolean' || (isPlainObject(value) &&
    Object.entries(value).every(([level, limit]) => ['warn', 'fail'].includes(level) && (limit === undefined || Number.isFinite(limit))))

const processChecks: Rule = (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return 'must be a boolean or an object of process check settings'
  for (const [key, setting] of Object.entries(value)) {
    if (setting === undefined) continue
    if (key === 'interval' || key === 'critical' || key === 'probes') continue
    if (key === 'memory') {
      const fine = typeof setting === 'boolean' || (isPlainObject(setting) &&
        Object.entries(setting).every(([part, t]) => ['heapUsed', 'rss'].includes(part) && (t === undefined || (thresholds(t) && typeof t !== 'boolean'))))
      if (!fine) return 'sets memory to something other than a boolean or { heapUsed, rss } thresholds'
    } else if (['uptime', 'eventLoopDelay', 'eventLoopUtilization'].includes(key)) {
      if (!thresholds(setting)) return `sets ${key} to something other than a boolean or { warn, fail } numbers`
    } else {
      return `has an unknown setting "${key}"`
    }
  }
  const { interval, critical, probes } = value
  if (interval !== undefined && millisecondsProblem(interval, 1) !== undefined) return 'sets interval to something other than milliseconds from 1'
  if (critical !== undefined && typeof critical !== 'boolean') return 'sets critical to something other than a boolean'
  if (probes !== undefined && !(Array.isArray(probes) && probes.every((p) => p === 'live' || p === 'ready'))) {
    return 'sets probes to something other than an array of "live" and "ready"'
  }
  return undefined
}

const rules: Record<keyof FastifyHealthOptions, Rule> = {
  serviceName: text,
  path: urlPath,
  version: text,
  releaseId: text,
  description: text,
  links,
  initialState: (value) => isState(value) ? undefined : 'must be one of the State values',
  cacheControl,
  statusCodes,
  prefix: (value) => value === '' ? undefined : urlPath(value),
  logLevel: (value) => typeof value === 'string' && LOG_LEVELS.includes(value) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`,
  checks: (value) => isPlainObject(value) ? undefined : 'must be an object of check name to function or { check, ...options }',
  exposeDetails: (value) => typeof value === 'boolean' || typeof value === 'function' ? undefined : 'must be a boolean or a function of the request',
  process: processChecks,
  probes: probePaths,
  shutdownDelay: milliseconds(0),
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
  for (const key of Object.keys(options)) {
    // Own keys only: `toString` or `constructor` is no option, whatever Object.prototype says.
    const rule = Object.hasOwn(rules, key) ? rules[key as keyof typeof rules] : undefined
    if (rule === undefined) throw new FST_HEALTH_UNKNOWN_OPTION(key)
    const problem = options[key] === undefined ? undefined : rule(options[key])
    if (problem !== undefined) throw new FST_HEALTH_INVALID_OPTION(key, problem)
  }
  if (options.serviceName === undefined) throw new FST_HEALTH_INVALID_OPTION('serviceName', 'is required')

  const given = options as unknown as FastifyHealthOptions
  const prefix = (given.prefix ?? '').replace(/\/+$/, '')
  const url = prefix + (given.path ?? '/health')
  return {
    serviceName: given.serviceName,
    url,
    version: given.version,
    releaseId: given.releaseId,
    description: given.description,
    // A copy: the answer is built from it, so later changes to the caller's object must not leak in.
    links: given.links === undefined ? undefined : { ...given.links },
    initialState: given.initialState ?? State.NOINFO,
    cacheControl: given.cacheControl ?? DEFAULT_CACHE_CONTROL,
    statusCodes: { ...DEFAULT_STATUS_CODES, ...given.statusCodes },
    logLevel: given.logLevel,
    logSerializers: given.logSerializers,
    checks: given.checks ?? {},
    exposeDetails: given.exposeDetails ?? true,
    process: given.process === true ? {} : given.process === false ? undefined : given.process,
    probes: resolveProbes(prefix, url, given.probes ?? true),
    shutdownDelay: given.shutdownDelay ?? DEFAULT_SHUTDOWN_DELAY
  }
}

function resolveProbes (prefix: string, url: string, probes: boolean | ProbePaths): ResolvedOptions['probes'] {
  if (probes === false) return {}
  const paths = probes === true ? {} : probes
  const base = url.replace(/\/+$/, '')
  const resolved: ResolvedOptions['probes'] = {}
  for (const probe of ['live', 'ready', 'started'] as const) {
    const path = paths[probe]
    if (path !== false) resolved[probe] = path === undefined ? `${base}/${probe}` : prefix + path
  }
  return resolved
}
