import type { FastifyInstance, FastifyReply, FastifySchema, RouteOptions } from 'fastify'
import { missingCheckPayload } from '../answer.js'
import type { HealthController, HealthLifecycle } from '../controller.js'
import { FST_HEALTH_ROUTE_TAKEN } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import { detailPolicy, HEALTH_CONTENT_TYPE, pluginRouteOptions } from '../route.js'
import { HealthResponseSchema } from '../schema.js'
import { CheckHistorySchema } from './schema.js'
import type { History } from './store.js'

// GET {path}/checks/:name/history, and the status page's routes when it is on. Nothing is built
// until a request comes: the history document on each request, the page once (see status-page/).

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** What the routes of the history read. */
export interface HistoryContext {
  health: HealthController
  lifecycle: HealthLifecycle
  history: History
}

/** A route of the history: the health routes' options, tagged for @fastify/swagger like them. */
export function historyRouteOptions (options: ResolvedOptions, url: string, schema: Record<string, unknown>): Omit<RouteOptions, 'handler'> {
  // summary and tags are for @fastify/swagger; Fastify's own type does not list them.
  return pluginRouteOptions(options, url, { tags: ['health'], ...schema } as FastifySchema)
}

/** A pattern of a route with parameters (`/health/checks/:name`) as a test of the paths it serves. */
const patternOf = (url: string): RegExp =>
  new RegExp('^' + url.split('/').map((part) => part.startsWith(':') ? '[^/]+' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('/') + '$')

/**
 * Fails with FST_HEALTH_ROUTE_TAKEN when a route of the history is a route already (a view's, a
 * group's, the application's) or would shadow one check of the drill-down or of the history.
 */
function claimRoutes (fastify: FastifyInstance, options: ResolvedOptions, routes: Array<{ label: string, url: string }>): void {
  const parametric = routes.filter(({ url }) => url.includes(':'))
  if (options.drillDown !== undefined) parametric.push({ label: 'the check drill-down', url: options.drillDown })
  for (const { label, url } of routes) {
    const there = options.views.find((view) => view.url === url)?.label ??
      (fastify.hasRoute({ method: 'GET', url: fastify.prefix + url }) ? 'a route of the application' : undefined) ??
      parametric.find((route) => route.url !== url && patternOf(route.url).test(url))?.label
    if (there !== undefined) throw new FST_HEALTH_ROUTE_TAKEN(label, fastify.prefix + url, there)
  }
}

/** Serves the history of each check, and the status page when it is on. */
export async function registerHistoryRoutes (fastify: FastifyInstance, context: HistoryContext, options: ResolvedOptions): Promise<void> {
  const base = (options.views.find((view) => view.name === 'health')?.url as string).replace(/\/+$/, '')
  const historyUrl = `${base}/checks/:name/history`
  const routes = [{ label: 'the check history', url: historyUrl }]
  const page = options.statusPage
  if (page !== undefined) routes.push({ label: 'the status page', url: page.path }, { label: 'the status page data', url: `${page.path}/data` })
  claimRoutes(fastify, options, routes)
  registerCheckHistory(fastify, context, options, historyUrl)
  if (page === undefined) return
  // Loaded only when the page is on.
  const { registerStatusPage } = await import('../status-page/route.js')
  registerStatusPage(fastify, context, options, page)
}

function registerCheckHistory (fastify: FastifyInstance, { history }: HistoryContext, options: ResolvedOptions, url: string): void {
  const showDetails = detailPolicy(options.exposeDetails)
  const { cacheControl } = options
  const send = (reply: FastifyReply, statusCode: number, type: string, payload: string): void => {
    reply.code(statusCode).type(type)
    if (cacheControl !== false) reply.header('cache-control', cacheControl)
    reply.send(payload)
  }
  fastify.route({
    ...historyRouteOptions(options, url, {
      summary: 'History of one check: its last readings and status changes (application/json); 404 when no check has that name',
      response: {
        200: { description: 'The check\'s history, oldest first', content: { 'application/json': { schema: CheckHistorySchema } } },
        404: { description: 'No check has that name, or the details are not for this caller', content: { 'application/health+json': { schema: HealthResponseSchema } } }
      }
    }),
    async handler (request, reply) {
      const { name } = request.params as { name: string }
      // Refused or unknown: the same 404 as the drill-down's, so nobody can tell which checks exist.
      const document = await showDetails(request) ? history.read(name) : undefined
      if (document === undefined) send(reply, 404, HEALTH_CONTENT_TYPE, missingCheckPayload(name, options))
      else send(reply, 200, JSON_CONTENT_TYPE, JSON.stringify(document))
      return reply
    }
  })
}
