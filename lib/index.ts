import { fastifyHealth } from './plugin.js'

export { fastifyHealth }
export default fastifyHealth

export type { HealthController, HealthReport, ChangeListener } from './controller.js'
export { createHealthServer, type HealthServer, type HealthServerOptions } from './server.js'
export {
  type FastifyHealthOptions, type GroupSelector, type HealthGroupOptions, type ProbePaths, DEFAULT_CACHE_CONTROL, DEFAULT_STATUS_CODES, DEFAULT_SHUTDOWN_DELAY
} from './options.js'
export type { CheckContext, CheckDefinition, CheckFunction, CheckOptions, CheckResult, CheckStatus, ComponentDetail, ProbeName } from './engine/types.js'
export type { ProcessChecksOptions } from './process-checks.js'
export { HEALTH_ROUTE_CONFIG, type HealthRouteOptions, isHealthRoute } from './route-options.js'
export type {
  OpenTelemetryAttributes, OpenTelemetryBatchObservableCallback, OpenTelemetryBatchObservableResult, OpenTelemetryHistogram,
  OpenTelemetryMeter, OpenTelemetryMeterProvider, OpenTelemetryObservable, OpenTelemetryOptions
} from './metrics/open-telemetry.js'
export type { PrometheusMetric, PrometheusOptions, PrometheusRegistry } from './metrics/prometheus.js'
export { CHECK_CHANNEL, STATUS_CHANNEL, type HealthCheckStatusMessage, type HealthStatusMessage } from './events.js'
export type { Thresholds } from './thresholds.js'
export { HEALTH_FORMATS } from './formats.js'
export { CHECK_DEFAULTS } from './engine/registry.js'
export { State, Status } from './states.js'
export { HEALTH_CONTENT_TYPE } from './route.js'
export * from './schema.js'
export * from './history/schema.js'
export * as errors from './errors.js'
