// The demo service behind `npm start`: warms up for a few seconds, then reports Working, and on
// SIGINT/SIGTERM drains (readiness 503 while still serving) before it closes.
//   curl -i http://127.0.0.1:8008/health
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8008)
const warmUpMs = Number(process.env.WARMUP_MS ?? 3000)
const shutdownDelay = Number(process.env.SHUTDOWN_DELAY_MS ?? 3000)

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

await app.register(fastifyHealth, {
  serviceName: 'demo',
  version: '1',
  releaseId: '1.0.0',
  description: 'fastify-health demo service',
  initialState: 'Warming up',
  shutdownDelay,
  // Details are hidden by default, as they can help an attacker. This demo listens on loopback
  // and shows them, so that you can see what a check says.
  exposeDetails: true,
  checks: {
    // A stand-in for a real dependency: answers in a few milliseconds.
    'demo-db:responseTime': async (signal) => {
      const started = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 5).unref())
      signal.throwIfAborted()
      return { componentType: 'datastore', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' }
    }
  }
})

app.get('/', async () => ({ hello: 'world', state: app.health.state }))

// Warming up for a few seconds, as a real service would while it connects and fills caches.
const warmUp = setTimeout(() => app.health.setStateWorking(), warmUpMs)

closeWithGrace({ delay: shutdownDelay + 10_000 }, async ({ signal, err }) => {
  clearTimeout(warmUp)
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal, shutdownDelay }, 'draining before close')
  await app.health.shutdown()
})

await app.listen({ host, port })
