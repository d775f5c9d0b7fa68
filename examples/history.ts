// History and the status page: what each check did lately, and a page for the person on call.
// Type-checked by `npm run typecheck`.
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type CheckChange } from 'fastify-health'

export async function buildApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: true })
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    checks: { 'db:responseTime': async () => ({ observedValue: 3, observedUnit: 'ms' }) },
    history: { readings: 3600, changes: 100 }, // the defaults; history: false turns it off
    statusPage: true, // GET /health/ui, its data at GET /health/ui/data
    // The page, the history route and the drill-down show details to those the plugin shows them to.
    exposeDetails: (request) => request.headers['x-health-token'] === process.env.HEALTH_TOKEN
  })
  return app
}

// What the database said when it last turned to fail, and what changed the overall status last.
export function lastFailure (app: FastifyInstance): { said: string | undefined, cause: string | undefined } {
  const db = app.health.history('db:responseTime') // undefined: no such check, or history: false
  const failed: CheckChange | undefined = db?.changes.filter((change) => change.to === 'fail').at(-1)
  const latest = app.health.history()?.changes.at(-1)
  const cause = latest === undefined ? undefined : 'check' in latest.cause ? latest.cause.check : latest.cause.state
  return { said: failed?.output, cause }
}
