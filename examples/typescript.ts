// The plugin in a TypeScript app, both registration forms. Type-checked by `npm run typecheck`.
import Fastify from 'fastify'
import fastifyHealth, { State, type HealthReport } from 'fastify-health'

export async function buildApp (): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify({ logger: true })

  // Shorthand: the string is the service name.
  await app.register(fastifyHealth, 'orders')
  // Or with options (instead of the line above):
  //   await app.register(fastifyHealth, { serviceName: 'orders', version: '2', initialState: State.WARMUP })

  app.addHook('onReady', async () => {
    app.health.setStateWorking()
  })

  app.get('/state', async () => {
    const state: State = app.health.state
    const report: HealthReport = await app.health.report()
    return { state, status: report.body.status }
  })
  return app
}
