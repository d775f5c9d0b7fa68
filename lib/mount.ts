import type { FastifyInstance } from 'fastify'
import { createHealth, type HealthController, type HealthLifecycle } from './controller.js'
import { registerHistoryRoutes } from './history/route.js'
import { createHistory } from './history/store.js'
import { connectionCloser } from './idle-connections.js'
import { publishChanges } from './events.js'
import type { ResolvedOptions } from './options.js'
import { createProcessChecks } from './process-checks.js'
import { registerHealthRoutes } from './route.js'

/** The controller of an instance, its checks registered, its shutdown closing the instance. */
export function createInstanceHealth (fastify: FastifyInstance, options: ResolvedOptions): { health: HealthController, lifecycle: HealthLifecycle } {
  const created = createHealth(options, fastify.log, () => fastify.close())
  created.lifecycle.checks.addAll(options.checks)
  if (options.process !== undefined) {
    const processChecks = createProcessChecks(options.process)
    for (const [name, check, checkOptions] of processChecks.checks) created.lifecycle.checks.add(name, check, checkOptions)
    fastify.addHook('onClose', async () => processChecks.dispose())
  }
  return created
}

/** Everything the plugin adds to an instance: `fastify.health`, its lifecycle hooks and routes. */
export function mountHealth (fastify: FastifyInstance, health: HealthController, lifecycle: HealthLifecycle, options: ResolvedOptions): void {
  // Before any run, so that the history has every reading from the first.
  const history = options.history === undefined ? undefined : createHistory(lifecycle, options.history)
  if (history !== undefined) health.history = history.read
  fastify.decorate('health', health)
  publishChanges(health, lifecycle, options.serviceName)
  // Closing means shutting down for whatever still reads the state: report(), onChange
  // listeners, requests in flight. (New requests get Fastify's own 503 once close() begins,
  // which is why health.shutdown() drains before it closes.)
  // Fastify before 5.12.4 runs a root preClose hook once per encapsulated context: sweep once.
  const closeConnections = connectionCloser(fastify)
  let stopSweeping: (() => void) | undefined
  fastify.addHook('preClose', async () => {
    lifecycle.closing()
    stopSweeping ??= closeConnections()
  })
  const { autoChecks } = options
  if (autoChecks !== undefined) {
    // Once every plugin has loaded, so that the datastore plugins registered after this one count.
    fastify.addHook('onReady', async () => {
      const { registerAutoChecks } = await import('./checks/auto.js')
      const registered = registerAutoChecks(fastify, lifecycle.checks, autoChecks)
      fastify.log.info({ checks: registered }, 'fastify-health: autoChecks registered')
    })
  }
  // After autoChecks, before any background run: a group of the user's that counts no check fails ready().
  fastify.addHook('onReady', async () => lifecycle.verify())
  const { openTelemetry, prometheus } = options
  if (openTelemetry !== undefined || prometheus !== undefined) {
    const stops: Array<() => void> = []
    // Loaded only when asked for, with the optional peer it needs; before the first background run.
    fastify.addHook('onReady', async () => {
      const { startMetrics } = await import('./metrics/index.js')
      await startMetrics(lifecycle, { openTelemetry, prometheus }, stops)
    })
    fastify.addHook('onClose', async () => { for (const stop of stops.splice(0)) stop() })
  }
  fastify.addHook('onReady', async () => lifecycle.start())
  fastify.addHook('onClose', async () => {
    stopSweeping?.()
    await lifecycle.stop()
  })
  // In a child context: Fastify applies the prefix there, as for any encapsulated plugin.
  fastify.register(async (routes) => {
    registerHealthRoutes(routes, lifecycle, options)
    if (history !== undefined) await registerHistoryRoutes(routes, { health, lifecycle, history }, options)
  }, { prefix: options.prefix })
}
