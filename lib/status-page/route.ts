import type { FastifyInstance, FastifyReply } from 'fastify'
import { type HistoryContext, historyRouteOptions, JSON_CONTENT_TYPE } from '../history/route.js'
import { detailPolicy } from '../route.js'
import type { ResolvedStatusPage } from '../history/options.js'
import type { ResolvedOptions } from '../options.js'
import { pageData } from './data.js'
import { buildStatusPage, type StatusPage } from './page.js'

// GET {page} (the HTML, built on its first request and kept) and GET {page}/data (its JSON,
// under the same detail policy as the drill-down: without permission, the overall status alone).

/** Headers of both routes: nothing cached (it is live), nothing sniffed, never in a frame. */
function sendNoStore (reply: FastifyReply, type: string, payload: string): void {
  reply.type(type).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff')
  reply.send(payload)
}

export function registerStatusPage (fastify: FastifyInstance, context: HistoryContext, options: ResolvedOptions, page: ResolvedStatusPage): void {
  const showDetails = detailPolicy(options.exposeDetails)
  const dataUrl = `${page.path}/data`
  let built: StatusPage | undefined
  fastify.route({
    ...historyRouteOptions(options, page.path, {
      summary: 'Status page for people: the service, its probes and groups, each check with its recent history (text/html)',
      response: { 200: { description: 'The page; it fetches its data from the route below it', content: { 'text/html': { schema: { type: 'string' } } } } }
    }),
    handler (request, reply) {
      built ??= buildStatusPage(fastify.prefix + dataUrl, page.refresh)
      reply.header('content-security-policy', built.csp)
      sendNoStore(reply, 'text/html; charset=utf-8', built.html)
    }
  })
  fastify.route({
    ...historyRouteOptions(options, dataUrl, {
      summary: 'The status page\'s data (application/json; its own format, which may change)',
      response: { 200: { description: 'Without permission for the details, the overall status alone', content: { 'application/json': { schema: { type: 'object' } } } } }
    }),
    async handler (request, reply) {
      sendNoStore(reply, JSON_CONTENT_TYPE, JSON.stringify(await pageData(context, options, await showDetails(request))))
      return reply
    }
  })
}
