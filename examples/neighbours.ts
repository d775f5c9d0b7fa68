// fastify-health beside a global rate limit, a global auth hook and @fastify/under-pressure:
// the probes keep answering, in health+json, while the rest is limited, guarded and shed.
// Type-checked by `npm run typecheck`.
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { isHealthRoute } from 'fastify-health'
import { underPressureCheck } from 'fastify-health/checks'

export async function buildApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: true })

  // Global: every route gets at most 100 requests a minute per client, but the health routes,
  // whose config carries `rateLimit: false` unless routeOptions.config says otherwise.
  await app.register(rateLimit, { global: true, max: 100, timeWindow: '1 minute' })

  // Global: every route needs the token, but the health routes (an orchestrator has no token).
  app.addHook('onRequest', async (request, reply) => {
    if (isHealthRoute(request)) return
    if (request.headers.authorization !== `Bearer ${process.env.API_TOKEN}`) {
      return reply.code(401).send({ error: 'Unauthorized' })
    }
  })

  // 503 for every route while the event loop lags, but the health routes, which say it in
  // health+json: readiness fails through the check, liveness holds.
  await app.register(underPressure, { maxEventLoopDelay: 1000, maxHeapUsedBytes: 1_500_000_000 })

  await app.register(fastifyHealth, {
    serviceName: 'orders',
    checks: { 'underPressure:pressure': underPressureCheck(app) }, // or autoChecks: true
    // Optional: a limit of their own for the health routes, instead of none.
    routeOptions: { config: { rateLimit: { max: 600, timeWindow: '1 minute' } } }
  })
  app.addHook('onReady', async () => app.health.setStateWorking())
  return app
}
