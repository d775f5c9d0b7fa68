import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { FST_HEALTH_ALREADY_REGISTERED } from './errors.js'
import { createInstanceHealth, mountHealth } from './mount.js'
import { type FastifyHealthOptions, resolveOptions } from './options.js'
import './augmentation.js'

export const pluginMetadata = { fastify: '5.x', name: 'fastify-health' }

const plugin: FastifyPluginAsync<FastifyHealthOptions> = async (fastify, opts) => {
  if (fastify.hasDecorator('health')) throw new FST_HEALTH_ALREADY_REGISTERED()
  // `opts` may also be the service name alone (see the FastifyRegister overload).
  const options = resolveOptions(opts)
  const { health, lifecycle } = createInstanceHealth(fastify, options)
  mountHealth(fastify, health, lifecycle, options)
}

/** The plugin. Register it with a service name, or with an options object. */
export const fastifyHealth = fp(plugin, pluginMetadata)
