import type { FastifyInstance, FastifySchema } from 'fastify'
import type { Answer } from './answer.js'
import type { ResolvedOptions } from './options.js'
import { HealthResponseSchema } from './schema.js'

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

/**
 * Serves GET (and HEAD, same status and headers, no body) at `url` with whatever
 * `currentAnswer` returns: the handler only copies a prebuilt buffer out.
 */
export function registerHealthRoute (
  fastify: FastifyInstance,
  options: ResolvedOptions,
  url: string,
  summary: string,
  currentAnswer: () => Answer
): void {
  const { cacheControl } = options
  fastify.route({
    method: 'GET',
    url,
    exposeHeadRoute: true,
    logLevel: options.logLevel,
    schema: healthRouteSchema(Object.values(options.statusCodes), summary),
    handler (_request, reply) {
      const answer = currentAnswer()
      return reply
        .code(answer.statusCode)
        .header('content-type', HEALTH_CONTENT_TYPE)
        .header('cache-control', cacheControl)
        .send(answer.payload)
    }
  })
}
