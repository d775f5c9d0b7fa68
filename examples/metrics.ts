// Metrics and events: the figures on prom-client's registry (served at /metrics for Prometheus),
// on OpenTelemetry's global MeterProvider, and status changes from diagnostics_channel.
// Type-checked by `npm run typecheck`.
import diagnosticsChannel from 'node:diagnostics_channel'
import Fastify from 'fastify'
import fastifyHealth, { CHECK_CHANNEL, type HealthCheckStatusMessage, type HealthStatusMessage, STATUS_CHANNEL } from 'fastify-health'
import { register } from 'prom-client'

export async function buildApp (): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify({ logger: true })
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    checks: { 'db:responseTime': { check: async () => ({ status: 'pass' }), failureThreshold: 3 } },
    // prom-client's default registry, the one fastify-metrics uses unless told otherwise.
    prometheus: { registry: register },
    // The global MeterProvider: start your OpenTelemetry SDK before the app is ready.
    openTelemetry: true
  })
  // What Prometheus scrapes (fastify-metrics serves this route for you).
  app.get('/metrics', async (request, reply) => reply.type(register.contentType).send(await register.metrics()))
  return app
}

// Anyone in the process can listen, with no reference to the app.
diagnosticsChannel.subscribe(STATUS_CHANNEL, (message) => {
  const { serviceName, current, previous } = message as HealthStatusMessage
  console.log(`${serviceName}: ${previous} -> ${current}`)
})
diagnosticsChannel.subscribe(CHECK_CHANNEL, (message) => {
  const { check, current, previous } = message as HealthCheckStatusMessage
  console.log(`check ${check}: ${previous ?? '(first reading)'} -> ${current}`)
})
