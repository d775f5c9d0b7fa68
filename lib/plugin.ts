import type {
  FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyTypeProvider, RawServerBase, RawServerDefault
} from 'fastify'
import fp from 'fastify-plugin'
import { createProcessChecks } from './process-checks.js'
import { HealthController, kChecks, kClosing, kStart, kStop } from './controller.js'
import { FST_HEALTH_ALREADY_REGISTERED } from './errors.js'
import { type FastifyHealthOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { registerHealthRoute } from './route.js'

export const pluginMetadata = { fastify: '5.x', name: 'fastify-health' }

/** Builds the controller of an instance: its checks registered, its shutdown closing it. */
export function createController (fastify: FastifyInstance, options: ResolvedOptions): HealthController {
  const health = new HealthController(options, fastify.log, () => fastify.close())
  health[kChecks].addAll(options.checks)
  if (options.process !== undefined) {
    const processChecks = createProcessChecks(options.process)
    for (const [name, check, checkOptions] of processChecks.checks) health[kChecks].add(name, check, checkOptions)
    fastify.addHook('onClose', async () => processChecks.dispose())
  }
  return health
}

/**
 * Node closes only the keep-alive connections that are idle when close() starts; one whose
 * request was still in flight would hold the close open until its keep-alive timeout (72 s by
 * default), past any orchestrator's grace period. Close each as soon as it goes idle.
 */
function sweepIdleConnections (fastify: FastifyInstance): NodeJS.Timeout | undefined {
  const server = fastify.server as { closeIdleConnections?: () => void }
  // HTTP/2 servers have no idle HTTP/1 connections to sweep.
  if (typeof server.closeIdleConnections !== 'function') return undefined
  const sweeper = setInterval(() => server.closeIdleConnections?.(), 50)
  sweeper.unref()
  return sweeper
}

/** Everything the plugin adds to an instance, given its controller. */
export function mountHealth (fastify: FastifyInstance, health: HealthController, options: ResolvedOptions): void {
  fastify.decorate('health', health)
  // Closing means shutting down for whatever still reads the state: report(), onChange
  // listeners, requests in flight. (New requests get Fastify's own 503 once close() begins,
  // which is why health.shutdown() drains before it closes.)
  let sweeper: NodeJS.Timeout | undefined
  fastify.addHook('preClose', async () => {
    health[kClosing]()
    sweeper = sweepIdleConnections(fastify)
  })
  fastify.addHook('onReady', async () => health[kStart]())
  fastify.addHook('onClose', async () => {
    clearInterval(sweeper)
    health[kStop]()
  })
  registerHealthRoute(fastify, health, options, 'health', options.url)
  for (const [view, url] of Object.entries(options.probes)) {
    registerHealthRoute(fastify, health, options, view as 'live' | 'ready' | 'started', url)
  }
}

const plugin: FastifyPluginAsync<FastifyHealthOptions> = async (fastify, opts) => {
  if (fastify.hasDecorator('health')) throw new FST_HEALTH_ALREADY_REGISTERED()
  // `opts` may also be the service name alone (see the FastifyRegister overload below).
  const options = resolveOptions(opts)
  mountHealth(fastify, createController(fastify, options), options)
}

/** The plugin. Register it with a service name, or with an options object. */
export const fastifyHealth = fp(plugin, pluginMetadata)

declare module 'fastify' {
  interface FastifyInstance {
    /** The health controller of fastify-health. */
    health: HealthController
  }

  // Lets `register(fastifyHealth, 'service-name')` type-check. The type parameters must repeat
  // Fastify's own declaration exactly for the interfaces to merge, used or not.
  /* eslint-disable @typescript-eslint/no-unused-vars */
  interface FastifyRegister<
    T = void,
    RawServer extends RawServerBase = RawServerDefault,
    TypeProviderDefault extends FastifyTypeProvider = FastifyTypeProvider,
    LoggerDefault extends FastifyBaseLogger = FastifyBaseLogger
  > {
    (plugin: typeof fastifyHealth, serviceName: string): T
  }
  /* eslint-enable @typescript-eslint/no-unused-vars */
}
