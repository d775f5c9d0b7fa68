import type { FastifyInstance } from 'fastify'

/**
 * Node closes only the keep-alive connections that are idle when close() starts; one whose
 * request was still in flight would hold the close open until its keep-alive timeout (72 s by
 * default), past any orchestrator's grace period. Closes each as soon as it goes idle, until
 * the returned function is called.
 */
export function sweepIdleConnections (fastify: FastifyInstance): () => void {
  const server = fastify.server as { closeIdleConnections?: () => void }
  // HTTP/2 servers have no idle HTTP/1 connections to sweep.
  if (typeof server.closeIdleConnections !== 'function') return () => {}
  const sweeper = setInterval(() => server.closeIdleConnections?.(), 50)
  sweeper.unref()
  return () => clearInterval(sweeper)
}
