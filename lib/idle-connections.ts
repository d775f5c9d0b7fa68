import type { FastifyInstance } from 'fastify'
import type { Http2Server, Http2Session } from 'node:http2'

/**
 * Node closes only the keep-alive connections that are idle when close() starts; one whose
 * request was still in flight would hold the close open until its keep-alive timeout (72 s by
 * default), past any orchestrator's grace period. Closes each as soon as it goes idle, until
 * the returned function is called.
 */
function sweepIdleConnections (server: { closeIdleConnections: () => void }): () => void {
  const sweeper = setInterval(() => server.closeIdleConnections(), 50)
  sweeper.unref()
  return () => clearInterval(sweeper)
}

/**
 * An HTTP/2 session stays open until the client or its timeout (Fastify's http2SessionTimeout,
 * 72 s) ends it, and Node before 24 does not end sessions on server.close(): an idle session
 * would hold the close open. So sessions are tracked from the start, and each is closed when the
 * instance closes: a GOAWAY, after which its streams in flight finish and no new one starts.
 * (The server stops accepting in the same turn, so no session comes after.)
 */
function trackSessions (server: Http2Server): () => () => void {
  const sessions = new Set<Http2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  return () => {
    for (const session of sessions) session.close()
    return () => {}
  }
}

/**
 * Called when the plugin mounts; the function it returns is called when the instance starts
 * closing, and returns the function that stops what it started.
 */
export function connectionCloser (fastify: FastifyInstance): () => () => void {
  // By the option, not by the server's methods: a secure HTTP/2 server has closeIdleConnections
  // (from tls.Server), which never sees its sessions.
  if (fastify.initialConfig.http2 === true) return trackSessions(fastify.server as unknown as Http2Server)
  const server = fastify.server as { closeIdleConnections?: () => void }
  // A serverFactory's server may have no such method: nothing to sweep then. Not covered: every
  // server of Node's has it, and Node's own close() calls it, so no test server can lack it.
  /* c8 ignore next */
  if (typeof server.closeIdleConnections !== 'function') return () => () => {}
  return () => sweepIdleConnections(server as { closeIdleConnections: () => void })
}
