// A check that holds a resource: close() releases it when the check is removed or the instance
// closes. Type-checked by `npm run typecheck`.
import type { EventEmitter } from 'node:events'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type CheckDefinition } from 'fastify-health'

// The last error a client emitted, as a check. The listeners are the check's own: close() takes them off.
export function lastErrorCheck (client: EventEmitter): CheckDefinition {
  let lastError: Error | undefined
  const onError = (error: Error): void => { lastError = error }
  const onReady = (): void => { lastError = undefined }
  client.on('error', onError)
  client.on('ready', onReady)
  return {
    check: () => { if (lastError !== undefined) throw lastError },
    close: () => {
      client.off('error', onError)
      client.off('ready', onReady)
    },
    cacheFor: 0
  }
}

export async function buildApp (queue: EventEmitter, cache: EventEmitter): Promise<FastifyInstance> {
  const app = Fastify({ logger: true })
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    checks: { 'queue:connection': lastErrorCheck(queue) }
  })
  app.health.addCheck('cache:connection', lastErrorCheck(cache), { critical: false })
  app.health.removeCheck('cache:connection') // calls close(): cache has its listeners back as they were
  return app
}
