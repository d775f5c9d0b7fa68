import { fastifyHealth } from './plugin.js'

export { fastifyHealth }
export default fastifyHealth

export { HealthController, type HealthReport } from './controller.js'
export { createHealthServer, type HealthServer, type HealthServerOptions } from './server.js'
export { type FastifyHealthOptions, DEFAULT_CACHE_CONTROL, DEFAULT_STATUS_CODES } from './options.js'
export { State, Status } from './states.js'
export { HEALTH_CONTENT_TYPE } from './route.js'
export * from './schema.js'
export * as errors from './errors.js'
