// autoChecks: readiness for every @fastify/postgres and @fastify/redis client on the instance,
// with no check code. Type-checked by `npm run typecheck`.
import fastifyPostgres from '@fastify/postgres'
import fastifyRedis from '@fastify/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth from 'fastify-health'

export async function buildApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: true })
  // Found once every plugin has loaded: the order of registration does not matter.
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    autoChecks: { timeout: 1000, cacheFor: 2000, warn: 200 } // or just `true`
  })
  await app.register(fastifyPostgres, { connectionString: process.env.DATABASE_URL })
  await app.register(fastifyPostgres, { connectionString: process.env.ANALYTICS_URL, name: 'analytics' })
  await app.register(fastifyRedis, { url: process.env.REDIS_URL })
  // GET /health/ready now counts `postgres:responseTime` (two entries: the default database and
  // "analytics (host:port/db)") and `redis:responseTime`, and answers 503 within a second when
  // either server dies or hangs.
  app.addHook('onReady', async () => app.health.setStateWorking())
  return app
}
