// fastify-health with 10 dependency checks and the built-in process checks. Each check is an
// async function that takes 20 ms and is cached for 1 s, so during a run of D seconds each
// should run about D times, whatever the request rate: the counts go out through the stats
// channel. Skipped, with the reason, where the API is missing.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, skip, HOST } from './_serve.mjs'

const target = 'health-checks'
const CHECKS = 10
const CHECK_MS = 20
const CACHE_FOR_MS = 1000

const app = Fastify()
let registered = true
try {
  await app.register(fastifyHealth, { serviceName: 'bench', process: true })
} catch (error) {
  registered = false
  skip(target, `registering with { process: true } fails (${error.code ?? error.name}: ${error.message})`)
}

if (registered) {
  if (typeof app.health?.addCheck !== 'function') {
    skip(target, 'fastify.health.addCheck is not a function')
  } else {
    const counts = {}
    for (let i = 0; i < CHECKS; i++) {
      const name = `dep${i}:responseTime`
      counts[name] = 0
      app.health.addCheck(name, async () => {
        counts[name]++
        const start = performance.now()
        await sleep(CHECK_MS)
        return { observedValue: Math.round(performance.now() - start), observedUnit: 'ms' }
      }, { cacheFor: CACHE_FOR_MS })
    }
    app.health.setStateWorking()
    await app.listen({ host: HOST, port: listenPort() })
    announce({ target, port: app.server.address().port, path: '/health', counts })
  }
}
