// fastify-health /health with BENCH_CHECKS checks (0 by default), each an async function of 5 ms
// cached for 1 s (BENCH_CACHE_FOR ms), details hidden unless BENCH_DETAILS=shown. The targets of bench/scaling.mjs:
// how the cost of a request grows with the number of checks. Check calls go out through the
// stats channel.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, HOST } from './_serve.mjs'

const checks = Number(process.env.BENCH_CHECKS ?? 0)
const shown = process.env.BENCH_DETAILS === 'shown'
const target = `checks-${checks}-${shown ? 'shown' : 'hidden'}`
const CHECK_MS = 5
const CACHE_FOR_MS = Number(process.env.BENCH_CACHE_FOR ?? 1000)

const app = Fastify()
await app.register(fastifyHealth, { serviceName: 'bench', exposeDetails: shown })
const counts = { calls: 0 }
for (let i = 0; i < checks; i++) {
  app.health.addCheck(`dep${i}:responseTime`, async () => {
    counts.calls++
    await sleep(CHECK_MS)
    return { observedValue: CHECK_MS, observedUnit: 'ms' }
  }, { cacheFor: CACHE_FOR_MS })
}
app.health.setStateWorking()
await app.listen({ host: HOST, port: listenPort() })
announce({ target, port: app.server.address().port, path: '/health', counts })
