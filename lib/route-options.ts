// The `routeOptions` option: the Fastify route options every health route takes, so that the
// app's other plugins (rate limits, authentication, load shedding) can be told about them.
import type { FastifyContextConfig, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { firstMistake, isPlainObject, type Rule } from './rules.js'

/**
 * The route options of Fastify's that a health route takes: `config` (merged over the plugin's
 * own, see `HEALTH_ROUTE_CONFIG`), `constraints`, and the request hooks that make sense on a GET
 * answered with a prebuilt string. The plugin keeps the rest (`url`, `method`, `handler`,
 * `schema`, `logLevel` through its own option, ...).
 */
export type HealthRouteOptions = Pick<RouteShorthandOptions, typeof HOOKS[number] | 'constraints'> & {
  // Any key: a plugin's key typed where it augments FastifyContextConfig (rateLimit), others too.
  config?: FastifyContextConfig & Record<string, unknown>
}

// No preParsing or bodyLimit (a GET has no body), no preSerialization (it never runs on a string).
const HOOKS = ['onRequest', 'preValidation', 'preHandler', 'onSend', 'onResponse', 'onError', 'onTimeout', 'onRequestAbort'] as const

/**
 * What every health route's `config` carries unless `routeOptions.config` says otherwise:
 * `health: true`, a marker an app's auth hook can let through; `rateLimit: false`, which
 * @fastify/rate-limit reads as "no limit" (a probe is a prebuilt string, and the checks behind it
 * run once per cacheFor whatever the traffic: a limit protects nothing and gets the instance
 * restarted); and a `pressureHandler` that lets the request on, which @fastify/under-pressure
 * calls in place of its own 503 (an overloaded instance must still say so in health+json, and
 * must not fail liveness for it).
 */
export const HEALTH_ROUTE_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  health: true,
  rateLimit: false,
  pressureHandler: () => undefined
})

/**
 * Whether a request is for one of the plugin's routes (by the marker in their config, which
 * `routeOptions.config` can remove): for an app's auth hook to let probes through.
 */
export function isHealthRoute (request: FastifyRequest): boolean {
  return (request.routeOptions.config as { health?: unknown }).health === true
}

const ALLOWED = ['config', 'constraints', ...HOOKS]

const hook: Rule = (value) =>
  typeof value === 'function' || (Array.isArray(value) && value.length > 0 && value.every((fn) => typeof fn === 'function'))
    ? undefined
    : 'must be a function or a non-empty array of functions'

const plainObject = (what: string): Rule => (value) => isPlainObject(value) ? undefined : `must be ${what}`

const rules: Record<string, Rule> = {
  config: plainObject('an object (the route config, merged over the plugin\'s)'),
  constraints: plainObject('an object of route constraints (version, host, ...)'),
  ...Object.fromEntries(HOOKS.map((name) => [name, hook]))
}

export const routeOptionsRule: Rule = (value) => {
  if (!isPlainObject(value)) return `must be an object of route options (${ALLOWED.join(', ')})`
  const mistake = firstMistake(value, rules)
  if (mistake === undefined) return undefined
  return mistake.problem === undefined
    ? `has "${mistake.key}", which the health routes do not take (they take ${ALLOWED.join(', ')})`
    : `sets ${mistake.key}: it ${mistake.problem}`
}

/** The route options every health route gets: the user's, their config over the plugin's. */
export function resolveRouteOptions (given: HealthRouteOptions = {}): HealthRouteOptions & { config: Record<string, unknown> } {
  const resolved: Record<string, unknown> = {}
  // Keys set to undefined are left out, as for every option.
  for (const [key, value] of Object.entries(given)) if (value !== undefined) resolved[key] = value
  return { ...resolved, config: { ...HEALTH_ROUTE_CONFIG, ...given.config } }
}
