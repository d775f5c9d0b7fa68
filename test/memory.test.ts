// Memory is bounded by checks and views, never by readings (issue 19, defect 1): a kubelet polls
// /health/ready only, so a view nobody polls must keep nothing per reading. 10 checks with
// `cacheFor: 0` (each request is then one reading per check), many requests to one route, and
// the heap after a full GC must not grow. The short form of `npm run bench:memory`.
//
// The collector is reached without --expose-gc on the command line (tap starts this file): the
// flag is set at run time and `gc` taken from a fresh context, where V8 installs it. A child
// process would have to load the TypeScript sources again, seconds of CPU on a busy machine.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import Fastify from 'fastify'
import t from 'tap'
import fastifyHealth from '../lib/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// 410,000 readings in all: about 10 s of CPU, a minute or two on a busy two-core machine.
t.setTimeout(180_000)

const CHECKS = 10
// 200,000 readings per route: the defect kept about 75 bytes per reading, 14 MiB here.
const REQUESTS = 20_000
/** Requests before the heap is first measured: V8's code and Fastify's caches warmed up. */
const WARMUP_REQUESTS = 300
const GROWTH_LIMIT = 2 * 1024 * 1024

/** One turn of the event loop: the setImmediate callbacks queued so far run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * The heap after a full collection (twice: what the first frees may let the second free more).
 * The event loop turns first: each inject() response ends in a setImmediate, and a callback still
 * queued holds its request and response (about 9 KiB).
 */
async function collectedHeap (): Promise<number> {
  for (let i = 0; i < 5; i++) await tick()
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

for (const route of ['/health/ready', '/health']) {
  t.test(`${REQUESTS} requests to ${route} alone, ${CHECKS} checks with cacheFor 0: the heap does not grow`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'memory' })
    let readings = 0
    for (let i = 0; i < CHECKS; i++) {
      app.health.addCheck(`dep${i}:responseTime`, async () => {
        readings++
        return { observedValue: 1, observedUnit: 'ms' }
      }, { cacheFor: 0 })
    }
    app.health.setStateWorking()
    await app.ready()
    const statusCodes: Record<string, number> = {}
    // One request after the other: each waits for a fresh run of every check.
    const poll = async (requests: number): Promise<void> => {
      for (let i = 0; i < requests; i++) {
        const { statusCode } = await app.inject({ method: 'GET', url: route })
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1
        // inject() resolves on promises alone: without a turn of the loop now and then, the
        // setImmediate callbacks of every response so far pile up, as a server's I/O never lets them.
        if (i % 20 === 19) await tick()
      }
    }
    await poll(WARMUP_REQUESTS)
    const heapBefore = await collectedHeap()
    const readingsBefore = readings
    await poll(REQUESTS)
    const growth = await collectedHeap() - heapBefore
    t.same(statusCodes, { 200: WARMUP_REQUESTS + REQUESTS }, 'every answer is 200')
    t.equal(readings - readingsBefore, REQUESTS * CHECKS, 'each request is one reading per check')
    t.ok(growth < GROWTH_LIMIT, `the heap after GC grew by ${(growth / 1024 / 1024).toFixed(2)} MiB over ` +
      `${REQUESTS * CHECKS} readings (limit 2 MiB)`)
  })
}
