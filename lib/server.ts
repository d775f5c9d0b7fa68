import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyLoggerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { HealthController } from './controller.js'
import { FST_HEALTH_INVALID_OPTION, FST_HEALTH_LISTEN_FAILED } from './errors.js'
import { type FastifyHealthOptions, resolveOptions } from './options.js'
import { createInstanceHealth, mountHealth } from './mount.js'
import { pluginMetadata } from './plugin.js'

export interface HealthServerOptions extends FastifyHealthOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port to listen on; 0 picks a free one. Default `8008`. */
  port?: number
  /** A pino-compatible logger, or Fastify's `logger` option (true or pino options). Default off. */
  logger?: boolean | FastifyLoggerOptions | FastifyBaseLogger
}

export interface HealthServer {
  /** The same controller the plugin puts on `fastify.health`. */
  readonly health: HealthController
  /** The Fastify instance underneath, for adding routes or hooks before `listen()`. */
  readonly fastify: FastifyInstance
  /** Starts listening; resolves with the address. A taken port rejects with FST_HEALTH_LISTEN_FAILED. */
  listen: () => Promise<string>
  /** Sets the state to Shutting down and stops the server. */
  close: () => Promise<void>
}

function isLoggerInstance (logger: unknown): logger is FastifyBaseLogger {
  return typeof logger === 'object' && logger !== null && typeof (logger as FastifyBaseLogger).child === 'function'
}

/**
 * A health endpoint on its own port, for workers with no HTTP of their own and for a separate
 * management port: a small Fastify instance with this same plugin.
 */
export function createHealthServer (options: HealthServerOptions): HealthServer {
  if (typeof options !== 'object' || options === null) {
    throw new FST_HEALTH_INVALID_OPTION('options', 'must be an options object with at least serviceName')
  }
  const { host = '127.0.0.1', port = 8008, logger = false, ...pluginOptions } = options
  if (typeof host !== 'string' || host === '') throw new FST_HEALTH_INVALID_OPTION('host', 'must be a non-empty string')
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FST_HEALTH_INVALID_OPTION('port', 'must be an integer from 0 to 65535')
  }
  const resolved = resolveOptions(pluginOptions)

  const fastify = isLoggerInstance(logger) ? Fastify({ loggerInstance: logger }) : Fastify({ logger })
  // Built now, not when the plugin loads, so that `health` is there before listen().
  const { health, lifecycle } = createInstanceHealth(fastify, resolved)
  fastify.register(fp(async (instance) => mountHealth(instance, health, lifecycle, resolved), pluginMetadata))

  return {
    health,
    fastify,
    async listen () {
      try {
        return await fastify.listen({ host, port })
      } catch (error) {
        // Close what was started, so that a failed listen leaves no half-open instance behind.
        await fastify.close()
        throw new FST_HEALTH_LISTEN_FAILED(`${host}:${port}`, (error as Error).message, { cause: error })
      }
    },
    close: () => fastify.close()
  }
}
