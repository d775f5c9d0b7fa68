import type { FastifyBaseLogger, FastifyPluginAsync, FastifyTypeProvider, RawServerBase, RawServerDefault } from 'fastify'
import type { HealthController } from './controller.js'
import type { FastifyHealthOptions } from './options.js'

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
    (plugin: FastifyPluginAsync<FastifyHealthOptions>, serviceName: string): T
  }
  /* eslint-enable @typescript-eslint/no-unused-vars */
}
