import type {
  FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyTypeProvider, RawServerBase, RawServerDefault
} from 'fastify'
import fp from 'fastify-plugin'
import { HealthController, kCurrentAnswer } from './controller.js'
import { FST_HEALTH_ALREADY_REGISTERED } from './errors.js'
import { type FastifyHealthOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { registerHealthRoute } from './route.js'

export const pluginMetadata = { fastify: '5.x', name: 'fastify-health' }

/** Everything the plugin adds to an instance, given a controller built from checked options. */
export function mountHealth (fastify: FastifyInstance, health: HealthController, options: ResolvedOptions): void {
  if (fastify.hasDecorator('health')) throw new FST_HEALTH_ALREADY_REGISTERED()
  fastify.decorate('health', health)
  // preClose runs before the server stops listening: probes still connected learn of the shutdown.
  fastify.addHook('preClose', async () => health.setStateShutDown())
  registerHealthRoute(fastify, options, options.url, 'Health of the service',
    () => health[kCurrentAnswer]())
}

const plugin: FastifyPluginAsync<FastifyHealthOptions> = async (fastify, opts) => {
  // `opts` may also be the service name alone (see the FastifyRegister overload below).
  const options = resolveOptions(opts)
  mountHealth(fastify, new HealthController(options, fastify.log), options)
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
