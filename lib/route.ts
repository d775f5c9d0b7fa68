import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, RouteOptions } from 'fastify'
import { type Answer, missingCheckPayload } from './answer.js'
import { describeThrown } from './engine/normalize.js'
import { redact } from './redact.js'
import type { HealthLifecycle } from './controller.js'
import { FST_HEALTH_ROUTE_TAKEN } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { HealthResponseSchema } from './schema.js'
import { checkView, type DetailOption, type HealthView, missingCheck } from './views.js'

export const HEALTH_CONTENT_TYPE = 'application/health+json; charset=utf-8'

/** The route schema: every code the route can answer documents the health+json document. */
function healthRouteSchema (statusCodes: Iterable<number>, summary: string): FastifySchema {
  const response: Record<number, unknown> = {}
  for (const code of new Set(statusCodes)) {
    response[code] = {
      description: 'Health of the service (draft-inadarei-api-health-check-06)',
      content: { 'application/health+json': { schema: HealthResponseSchema } }
    }
  }
  // summary and tags are for @fastify/swagger; Fastify's own type does not list them.
  return { summary, tags: ['health'], response } as FastifySchema
}

/**
 * Decides per request whether the details may be shown: a boolean, or a function of the request
 * that may return a promise (an async look-up of a token). Only `true` shows them; a decider that
 * throws or rejects hides them, and says so.
 */
export function detailPolicy (exposeDetails: DetailOption): (request: FastifyRequest) => boolean | Promise<boolean> {
  if (typeof exposeDetails === 'boolean') return () => exposeDetails
  const refused = (request: FastifyRequest, error: unknown): false => {
    request.log.warn({ error: redact(describeThrown(error)) }, 'fastify-health: exposeDetails threw; details hidden')
    return false
  }
  return (request) => {
    try {
      const decided = exposeDetails(request)
      if (decided instanceof Promise) return decided.then((shown) => shown === true, (error: unknown) => refused(request, error))
      return decided === true
    } catch (error) {
      return refused(request, error)
    }
  }
}

/**
 * Fails with FST_HEALTH_ROUTE_TAKEN when a route is served twice, shadows one check of the
 * drill-down (`{path}/checks/db` would answer in place of the check `db`), or is already a
 * route of the application's, rather than leave one of them unreachable.
 */
function claimRoutes (fastify: FastifyInstance, routes: Array<{ label: string, url: string }>, drillDown: string | undefined): void {
  const taken = new Map<string, string>()
  // The drill-down's last segment is the name: `/health/checks/`, then one segment.
  const names = drillDown?.slice(0, drillDown.lastIndexOf('/') + 1)
  for (const { label, url } of routes) {
    const rest = names !== undefined && url !== drillDown && url.startsWith(names) ? url.slice(names.length) : undefined
    const there = taken.get(url) ??
      (rest !== undefined && rest !== '' && !rest.includes('/') ? 'the check drill-down' : undefined) ??
      (fastify.hasRoute({ method: 'GET', url: fastify.prefix + url }) ? 'a route of the application' : undefined)
    if (there !== undefined) throw new FST_HEALTH_ROUTE_TAKEN(label, fastify.prefix + url, there)
    taken.set(url, label)
  }
}

/** Serves every view, and the drill-down unless it is off. */
export function registerHealthRoutes (fastify: FastifyInstance, lifecycle: HealthLifecycle, options: ResolvedOptions): void {
  const { drillDown } = options
  const routes = options.views.map(({ label, url }) => ({ label, url }))
  if (drillDown !== undefined) routes.push({ label: 'the check drill-down', url: drillDown })
  claimRoutes(fastify, routes, drillDown)
  for (const view of options.views) registerHealthRoute(fastify, lifecycle, options, view)
  if (drillDown !== undefined) registerCheckRoute(fastify, lifecycle, options, drillDown)
}

/** Sends an answer: the code, the content type, the cache header, the prebuilt body. */
function sender (options: ResolvedOptions): (reply: FastifyReply, statusCode: number, payload: string) => void {
  const { cacheControl } = options
  return (reply, statusCode, payload) => {
    // Always set the code, 200 included: a hook of the app may have set another one.
    // type() sets content-type without header()'s lower-casing.
    reply.code(statusCode).type(HEALTH_CONTENT_TYPE)
    if (cacheControl !== false) reply.header('cache-control', cacheControl)
    reply.send(payload)
  }
}

/**
 * What every route of the plugin shares: the user's route options (config and hooks), GET and
 * HEAD, the log options, the schema (to document it), no serializer.
 */
export function pluginRouteOptions (options: ResolvedOptions, url: string, schema: FastifySchema): Omit<RouteOptions, 'handler'> {
  return {
    ...options.routeOptions,
    method: 'GET',
    url,
    exposeHeadRoute: true,
    logLevel: options.logLevel,
    logSerializers: options.logSerializers,
    schema,
    // The handlers send prebuilt strings, which Fastify does not serialize: the schema is there to
    // document the route, so skip compiling a serializer per status code (memory and start-up).
    serializerCompiler: () => JSON.stringify
  }
}

/** A health route's options: its health+json schema for every code it can answer. */
function sharedRouteOptions (options: ResolvedOptions, url: string, codes: Iterable<number>, summary: string): Omit<RouteOptions, 'handler'> {
  return pluginRouteOptions(options, url, healthRouteSchema(codes, summary))
}

/**
 * Serves GET (and HEAD: same status and headers, no body) for one view. The handler copies a
 * prebuilt string out, and waits only when a check it counts has no reading fresh enough.
 */
function registerHealthRoute (fastify: FastifyInstance, lifecycle: HealthLifecycle, options: ResolvedOptions, view: HealthView): void {
  const showDetails = detailPolicy(view.exposeDetails)
  const sendPayload = sender(options)
  const { name } = view
  const send = (reply: FastifyReply, answer: Answer): void => sendPayload(reply, answer.statusCode, answer.payload)
  // A promise that waited resolves to the reply: resolving to undefined would make Fastify send a
  // second time while an async onSend hook still holds the first.
  const respond = (reply: FastifyReply, detailed: boolean): Promise<FastifyReply> | undefined => {
    const answer = lifecycle.answer(name, detailed)
    if (answer instanceof Promise) return answer.then((ready) => { send(reply, ready); return reply })
    send(reply, answer)
  }

  fastify.route({
    ...sharedRouteOptions(options, view.url, Object.values(view.codes), view.summary),
    // Returns nothing on the common path: a returned reply is a thenable, and Fastify would wait
    // on it (listeners on the response stream and a promise per request) for nothing.
    handler (request, reply) {
      const detailed = showDetails(request)
      if (detailed instanceof Promise) return detailed.then((shown) => respond(reply, shown) ?? reply)
      return respond(reply, detailed)
    }
  })
}

/**
 * Serves the document of one check, `{path}/checks/:name` (the name as it is or percent-encoded).
 * A name that no check has, or that the detail policy refuses, answers the same 404 document:
 * without permission, nobody can tell which checks exist.
 */
function registerCheckRoute (fastify: FastifyInstance, lifecycle: HealthLifecycle, options: ResolvedOptions, url: string): void {
  const showDetails = detailPolicy(options.exposeDetails)
  const sendPayload = sender(options)
  const { code } = missingCheck
  const send = (reply: FastifyReply, name: string, answer: Answer | undefined): void => {
    if (answer === undefined) sendPayload(reply, code, missingCheckPayload(name, options))
    else sendPayload(reply, answer.statusCode, answer.payload)
  }
  const respond = (reply: FastifyReply, name: string, shown: boolean): Promise<FastifyReply> | undefined => {
    const answer = shown ? lifecycle.checkAnswer(name) : undefined
    if (answer instanceof Promise) return answer.then((ready) => { send(reply, name, ready); return reply })
    send(reply, name, answer)
  }

  fastify.route({
    ...sharedRouteOptions(options, url, [...Object.values(options.statusCodes), code], checkView.summary),
    handler (request, reply) {
      const { name } = request.params as { name: string }
      const shown = showDetails(request)
      if (shown instanceof Promise) return shown.then((allowed) => respond(reply, name, allowed) ?? reply)
      return respond(reply, name, shown)
    }
  })
}
