// The apps of the monitoring tests' fleet: real Fastify apps on loopback with the plugin, a
// critical check and a non-critical one that the test sets, and their figures for a scraper.
import type { Test } from 'tap'
import fastifyHealth, { type HealthStatus, State } from '../lib/index.js'
import { controlledCheck, newApp } from './helpers.js'

/** An app of the fleet: a critical check `db` and a non-critical `cache`, each one set by the test. */
export interface FleetApp {
  /** `127.0.0.1:port`: its `instance` label. */
  instance: string
  db: (status: HealthStatus) => void
  cache: (status: HealthStatus) => void
  /** Every URL requested from it. */
  requested: string[]
  close: () => Promise<void>
}

/**
 * A real Fastify app on loopback with the plugin, its figures on a prom-client registry served
 * at /metrics (`register` puts them there). Closed when the test ends.
 */
export async function fleetApp (t: Test, metrics: (app: ReturnType<typeof newApp>) => Promise<Record<string, unknown>>): Promise<FleetApp> {
  const app = newApp(t)
  const requested: string[] = []
  app.addHook('onRequest', async (request) => { requested.push(request.url) })
  const db = controlledCheck()
  const cache = controlledCheck()
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    initialState: State.WORK,
    ...await metrics(app),
    checks: {
      // No interval: with prometheus on, the checks keep fresh by themselves; no test requests a health route.
      db: { check: db.check },
      cache: { check: cache.check, critical: false }
    }
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  let closed: Promise<void> | undefined
  return { instance: new URL(address).host, db: db.set, cache: cache.set, requested, close: () => (closed ??= app.close()) }
}
