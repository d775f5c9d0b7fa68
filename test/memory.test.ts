// Memory is bounded by checks and views, never by readings (issue 19, defect 1): a kubelet polls
// /health/ready only, so a view nobody polls must keep nothing per reading. 10 checks with
// `cacheFor: 0` (each request is then one reading per check), many requests to one route, and
// the heap after a full GC must not grow. The short form of `npm run bench:memory`.
//
// Each route is polled in a child process of its own: this file again, with MEMORY_CHILD_ROUTE
// set, started with --expose-gc and only the TypeScript loader tap gave this process. Measured
// in the test process itself, the heap after GC moved by up to ±1.9 MiB between identical runs
// (tap's own machinery); in a bare child, by under 0.5 MiB. The child prints one JSON line.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyHealth from '../lib/index.js'

const CHILD_ROUTE = 'MEMORY_CHILD_ROUTE'
const CHECKS = 10
// 100,000 readings per route: the defect kept about 75 bytes per reading, 7 MiB here.
const REQUESTS = 10_000
/** Requests before the heap is first measured: V8's code and Fastify's caches warmed up. */
const WARMUP_REQUESTS = 2000
const GROWTH_LIMIT = 2 * 1024 * 1024

interface Measure {
  route: string
  readings: number
  statusCodes: Record<string, number>
  growth: number
}

/** One turn of the event loop: the setImmediate callbacks queued so far run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * The heap after a full collection (twice: what the first frees may let the second free more).
 * The event loop turns first: each inject() response ends in a setImmediate, and a callback still
 * queued holds its request and response (about 9 KiB).
 */
async function collectedHeap (): Promise<number> {
  for (let i = 0; i < 5; i++) await tick()
  const gc = globalThis.gc as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** In the child: polls `route` alone, one request after the other, and prints what the heap did. */
async function pollRoute (route: string): Promise<void> {
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'memory' })
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
  const measure: Measure = { route, readings: readings - readingsBefore, statusCodes, growth: await collectedHeap() - heapBefore }
  await app.close()
  process.stdout.write(JSON.stringify(measure) + '\n')
}

/** Runs this file as the child for `route`; resolves with its measure. */
function measureInChild (route: string): Promise<Measure> {
  // The TypeScript loader only: no coverage or mocking machinery in the heap being measured.
  const loader = process.execArgv.filter((arg) => arg.includes('scripts/typescript-loader.mjs'))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loader, '--expose-gc', fileURLToPath(import.meta.url)], {
      env: { ...process.env, NODE_OPTIONS: '', [CHILD_ROUTE]: route },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2000) })
    child.on('error', reject)
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? ''
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Measure)
      else reject(new Error(`the child polling ${route} exited with ${code}: ${stderr}`))
    })
  })
}

const route = process.env[CHILD_ROUTE]
if (route !== undefined) {
  await pollRoute(route)
} else {
  const { default: t } = await import('tap')
  // Two children of 120,000 readings each: seconds of CPU, but minutes on a busy two-core machine.
  t.setTimeout(240_000)
  t.test(`${REQUESTS} requests to one route alone, ${CHECKS} checks with cacheFor 0: the heap does not grow`, async (t) => {
    // Both routes at once, each in its own process.
    const measures = await Promise.all(['/health/ready', '/health'].map(measureInChild))
    for (const measure of measures) {
      t.same(measure.statusCodes, { 200: WARMUP_REQUESTS + REQUESTS }, `${measure.route}: every answer is 200`)
      t.equal(measure.readings, REQUESTS * CHECKS, `${measure.route}: each request is one reading per check`)
      t.ok(measure.growth < GROWTH_LIMIT, `${measure.route} alone: the heap after GC grew by ` +
        `${(measure.growth / 1024 / 1024).toFixed(2)} MiB over ${measure.readings} readings (limit 2 MiB)`)
    }
  })
}
