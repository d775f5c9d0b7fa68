// A PostgreSQL-style dependency check with a timeout and a cache. Type-checked by `npm run typecheck`.
// `pool` stands for a pg.Pool (or any client with a query method that accepts an AbortSignal).
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'

interface Pool { query: (sql: string, options?: { signal?: AbortSignal }) => Promise<unknown> }

export async function buildApp (pool: Pool): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'orders', version: '2' })

  app.health.addCheck('postgres:responseTime', async (signal) => {
    const started = performance.now()
    await pool.query('SELECT 1', { signal })
    const ms = Math.round(performance.now() - started)
    return {
      componentType: 'datastore',
      observedValue: ms,
      observedUnit: 'ms',
      // A slow database still answers: report it as a warning, not a failure.
      status: ms > 200 ? 'warn' : 'pass'
    }
  }, { timeout: 1000, cacheFor: 2000 })

  app.health.onChange((current, previous) => {
    app.log.warn({ current, previous }, 'health changed')
  })
  return app
}
