import type { LogLevel } from 'fastify'
import { FST_HEALTH_INVALID_OPTION, FST_HEALTH_UNKNOWN_OPTION } from './errors.js'
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
  /** The Cache-Control header of every answer. Default `max-age=5`. */
  cacheControl?: string
  /** HTTP codes per status: pass and warn in 200-399, fail in 400-599. Default 200/202/503. */
  statusCodes?: Partial<Record<Status, number>>
  /** Fastify register option, honoured: prepended to `path`. */
  prefix?: string
  /** Fastify register option, honoured: the log level of the health routes' request logs. */
  logLevel?: LogLevel
}

export interface ResolvedOptions {
  serviceName: string
  url: string
  version?: string
  releaseId?: string
  description?: string
  links?: Record<string, string>
  initialState: State
  cacheControl: string
  statusCodes: Readonly<Record<Status, number>>
  logLevel?: LogLevel
}

export const DEFAULT_CACHE_CONTROL = 'max-age=5'
export const DEFAULT_STATUS_CODES: Readonly<Record<Status, number>> = { pass: 200, warn: 202, fail: 503 }

/** Returns what is wrong with a value, or undefined when it is fine. */
type Rule = (value: unknown) => string | undefined

const text: Rule = (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string'

const urlPath: Rule = (value) =>
  typeof value === 'string' && value.startsWith('/') ? undefined : 'must be a string that starts with "/"'

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// The draft requires every link value to be a URI: absolute, or a reference from the root.
const isUri = (value: unknown): boolean =>
  typeof value === 'string' && (value.startsWith('/') || URL.canParse(value))

const links: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be an object of link relation to URI'
  const bad = Object.keys(value).find((rel) => rel === '' || !isUri(value[rel]))
  return bad === undefined ? undefined : `has a link "${bad}" that is not a URI`
}

const codeRanges: Record<Status, [number, number]> = { pass: [200, 399], warn: [200, 399], fail: [400, 599] }

const statusCodes: Rule = (value) => {
  if (!isPlainObject(value)) return 'must be an object like { pass: 200, warn: 202, fail: 503 }'
  for (const [status, code] of Object.entries(value)) {
    const range = codeRanges[status as Status]
    if (range === undefined) return `has an unknown status "${status}" (expected pass, warn or fail)`
    if (!Number.isInteger(code) || (code as number) < range[0] || (code as number) > range[1]) {
      return `sets ${status} to ${String(code)}: the draft requires an integer in ${range[0]}-${range[1]}`
    }
  }
  return undefined
}

const rules: Record<keyof FastifyHealthOptions | 'logSerializers', Rule> = {
  serviceName: text,
  path: urlPath,
  version: text,
  releaseId: text,
  description: text,
  links,
  initialState: (value) => isState(value) ? undefined : 'must be one of the State values',
  cacheControl: text,
  statusCodes,
  prefix: (value) => value === '' ? undefined : urlPath(value),
  logLevel: text,
  // Fastify's own register option; Fastify applies it, not this plugin.
  logSerializers: () => undefined
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
    const rule = rules[key as keyof typeof rules]
    if (rule === undefined) throw new FST_HEALTH_UNKNOWN_OPTION(key)
    const problem = options[key] === undefined ? undefined : rule(options[key])
    if (problem !== undefined) throw new FST_HEALTH_INVALID_OPTION(key, problem)
  }
  if (options.serviceName === undefined) throw new FST_HEALTH_INVALID_OPTION('serviceName', 'is required')

  const given = options as unknown as FastifyHealthOptions
  const prefix = (given.prefix ?? '').replace(/\/+$/, '')
  return {
    serviceName: given.serviceName,
    url: prefix + (given.path ?? '/health'),
    version: given.version,
    releaseId: given.releaseId,
    description: given.description,
    links: given.links,
    initialState: given.initialState ?? State.NOINFO,
    cacheControl: given.cacheControl ?? DEFAULT_CACHE_CONTROL,
    statusCodes: { ...DEFAULT_STATUS_CODES, ...given.statusCodes },
    logLevel: given.logLevel
  }
}
