import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import type { Answer } from './answer.js'
import type { HealthLifecycle } from './controller.js'
import type { ResolvedOptions } from './options.js'
import { HealthResponseSchema } from './schema.js'
import { type View, viewDefinition, viewNames } from './views.js'

export const HEALTH_CONTENT_TYPE = 'application/health+json; charset=utf-8'

/** The route schema: every code the route can answer documents the health+json document. */
export function healthRouteSchema (statusCodes: Iterable<number>, summary: string): FastifySchema {
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

/** Decides per request whether the details may be shown; a throwing decider hides them. */
function detailPolicy (options: ResolvedOptions): (request: FastifyRequest) => boolean {
  const { exposeDetails } = options
  if (typeof exposeDetails === 'boolean') return () => exposeDetails
  return (request) => {
    try {
      return exposeDetails(request) === true
    } catch (error) {
      request.log.warn({ err: error }, 'fastify-health: exposeDetails threw; details hidden')
      return false
    }
  }
}

/** Serves every view that has a route. */
export function registerHealthRoutes (fastify: FastifyInstance, lifecycle: HealthLifecycle, options: ResolvedOptions): void {
  for (const view of viewNames) {
    const url = options.routes[view]
    if (url !== undefined) registerHealthRoute(fastify, lifecycle, options, view, url)
  }
}

/**
 * Serves GET (and HEAD: same status and headers, no body) for one view. The handler copies a
 * prebuilt string out, and waits only when a check it counts has no reading fresh enough.
 */
function registerHealthRoute (
  fastify: FastifyInstance, lifecycle: HealthLifecycle, options: ResolvedOptions, view: View, url: string
): void {
  const { cacheControl } = options
  const definition = viewDefinition(view)
  const codes = definition.codes === 'statusCodes' ? options.statusCodes : definition.codes
  const showDetails = detailPolicy(options)
  const send = (request: FastifyRequest, reply: FastifyReply, answer: Answer): void => {
    // Always set the code, 200 included: a hook of the app may have set another one.
    // type() sets content-type without header()'s lower-casing.
    reply.code(answer.statusCode).type(HEALTH_CONTENT_TYPE)
    if (cacheControl !== false) reply.header('cache-control', cacheControl)
    reply.send(showDetails(request) ? answer.payload : answer.brief())
  }

  fastify.route({
    method: 'GET',
    url,
    exposeHeadRoute: true,
    logLevel: options.logLevel,
    logSerializers: options.logSerializers,
    schema: healthRouteSchema(Object.values(codes), definition.summary),
    // The handler sends prebuilt strings, which Fastify does not serialize: the schema is there to
    // document the route, so skip compiling a serializer per status code (memory and start-up).
    serializerCompiler: () => JSON.stringify,
    // Returns nothing on the common path: a returned reply is a thenable, and Fastify would wait
    // on it (listeners on the response stream and a promise per request) for nothing.
    handler (request, reply) {
      const answer = lifecycle.answer(view)
      if (answer instanceof Promise) return answer.then((ready) => send(request, reply, ready))
      send(request, reply, answer)
    }
  })
}
