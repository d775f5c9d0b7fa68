// Memory against readings (issue 19, defect 1): 10 checks with `cacheFor: 0`, one route polled,
// 1,000,000 readings with only /health/ready polled, then again with only /health polled (a
// kubelet polls one probe: a view nobody polls must not keep what its readings leave behind).
// Reported: the heap after a forced GC before and after the readings, and the growth. Target:
// less than 2 MiB. Run with `npm run bench:memory` (builds first), or `node bench/memory.mjs`
// after a build.
//
// Each route is polled in its own fresh process (`node --expose-gc`, this file again with
// BENCH_MEMORY_ROUTE set), with app.inject(): in-process, no sockets, so a million readings
// take a minute or two. Requests go one after the other: with `cacheFor: 0` each one waits for
// a fresh run of every check, so each request is exactly one reading per check, which the check
// functions count. The package is the built one (`import 'fastify-health'` resolves to dist/),
// with exactly one copy of Fastify loaded.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { fmt, jsonChild, numberFromEnv, rootDir, runMain, trackChildren, versionOf, writeResults } from './common.mjs'

/** Which code ran: the last commit of lib/, and whether lib/ had changes not committed yet. */
function codeVersion () {
  const git = (...args) => execFileSync('git', args, { cwd: rootDir, encoding: 'utf8' }).trim()
  try {
    return `lib/ at ${git('log', '-1', '--format=%h', '--', 'lib')}${git('status', '--porcelain', '--', 'lib') === '' ? '' : ' with uncommitted changes'}`
  } catch { return 'lib/ at an unknown commit' }
}

const MiB = 1024 * 1024
const config = {
  checks: numberFromEnv('BENCH_MEMORY_CHECKS', 10, { min: 1, integer: true }),
  readings: numberFromEnv('BENCH_MEMORY_READINGS', 1_000_000, { min: 1000, integer: true }),
  // Requests before the heap is first measured, not counted: V8's code, Fastify's caches warmed.
  warmup: numberFromEnv('BENCH_MEMORY_WARMUP', 5000, { min: 0, integer: true }),
  // Heap measurements along the way, to show the trend (and to stop a run that grows without bound).
  checkpoints: numberFromEnv('BENCH_MEMORY_CHECKPOINTS', 10, { min: 1, integer: true }),
  // A route whose heap grows past this is stopped there: the figure is made, and the run stays bounded.
  stopAtMiB: numberFromEnv('BENCH_MEMORY_STOP_MIB', 1024, { min: 4 }),
  targetMiB: 2,
  routes: ['/health/ready', '/health'],
  out: process.env.BENCH_OUT ?? 'memory'
}

/** One turn of the event loop: the setImmediate callbacks queued so far run. */
const tick = () => new Promise((resolve) => setImmediate(resolve))

/**
 * The heap after full collections. The event loop turns first: each inject() response ends in
 * a setImmediate, and a callback still queued holds its request and response (about 9 KiB).
 */
async function collect () {
  for (let i = 0; i < 5; i++) await tick()
  // Twice: what the first collection frees may let finalizers free more.
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

/** The child: one route polled, its heap measured; prints one JSON line. */
async function pollOneRoute (route) {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyHealth } = await import('fastify-health')
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'bench-memory' })
  let readings = 0
  for (let i = 0; i < config.checks; i++) {
    app.health.addCheck(`dep${i}:responseTime`, async () => {
      readings++
      return { observedValue: 1, observedUnit: 'ms' }
    }, { cacheFor: 0 })
  }
  app.health.setStateWorking()
  await app.ready()
  // The package and this file must share one Fastify: a second copy would be a second heap of its own.
  const fastifyCopies = Object.keys(createRequire(import.meta.url).cache).filter((file) => /[\\/]fastify[\\/]fastify\.js$/.test(file))

  const statusCodes = {}
  const poll = async (requests) => {
    for (let i = 0; i < requests; i++) {
      const { statusCode } = await app.inject({ method: 'GET', url: route })
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1
      // inject() resolves on promises alone: without a turn of the loop now and then, the
      // setImmediate callbacks of every response so far pile up, as a server's I/O never lets them.
      if (i % 20 === 19) await tick()
    }
  }
  await poll(Math.ceil(config.warmup / config.checks))
  const warmupReadings = readings
  const started = performance.now()
  const heapBefore = await collect()
  const requests = Math.ceil(config.readings / config.checks)
  const checkpoints = []
  let stoppedEarly = false
  for (let done = 0; done < requests;) {
    const batch = Math.min(Math.ceil(requests / config.checkpoints), requests - done)
    await poll(batch)
    done += batch
    const heapUsed = await collect()
    checkpoints.push({ requests: done, readings: readings - warmupReadings, heapUsed, seconds: (performance.now() - started) / 1000 })
    if (heapUsed - heapBefore > config.stopAtMiB * MiB && done < requests) {
      stoppedEarly = true
      break
    }
  }
  const last = checkpoints.at(-1)
  await app.close()
  process.stdout.write(JSON.stringify({
    route,
    requests: last.requests,
    readings: last.readings,
    expectedReadings: last.requests * config.checks,
    stoppedEarly,
    heapBefore,
    heapAfter: last.heapUsed,
    growth: last.heapUsed - heapBefore,
    seconds: last.seconds,
    statusCodes,
    fastifyCopies: fastifyCopies.length,
    checkpoints
  }) + '\n')
}

const { children, killAll } = trackChildren('memory bench process')

/** Runs one route's child process and resolves with its JSON line. */
const runRoute = (route) =>
  jsonChild(children, route, process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { BENCH_MEMORY_ROUTE: route })

const mib = (bytes) => fmt(bytes / MiB, 2)

async function main () {
  const code = codeVersion()
  console.log(`fastify-health memory bench: ${config.checks} checks, cacheFor 0, ${config.readings} readings per route, ` +
    `one route polled per process (${config.routes.join(', ')})`)
  const rows = []
  for (const route of config.routes) {
    const row = await runRoute(route)
    console.log(`  ${route.padEnd(14)} ${row.requests} requests, ${row.readings} readings in ${row.seconds.toFixed(1)} s: ` +
      `heap ${mib(row.heapBefore)} -> ${mib(row.heapAfter)} MiB (${row.growth >= 0 ? '+' : ''}${mib(row.growth)} MiB)` +
      `${row.stoppedEarly ? ` (stopped: grew past ${config.stopAtMiB} MiB)` : ''}`)
    rows.push({ ...row, met: !row.stoppedEarly && row.growth < config.targetMiB * MiB })
  }
  const failed = rows.some((row) => row.readings !== row.expectedReadings || row.fastifyCopies !== 1 ||
    Object.keys(row.statusCodes).some((code) => code !== '200'))
  const md = [
    `# Memory against readings (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `node ${process.version}, fastify ${versionOf('fastify')}, ${code}. ${config.checks} checks (async, \`cacheFor: 0\`), one route polled ` +
      'with `app.inject()`, one request after the other (a turn of the event loop every 20), each route in a fresh `node --expose-gc` process; ' +
      `${config.warmup} readings of warm-up first. Heap: \`heapUsed\` after a forced GC. Target: grows less than ${config.targetMiB} MiB.`,
    '',
    '| route polled | requests | readings | heap before (MiB) | heap after (MiB) | growth (MiB) | bytes per reading | seconds | target met |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map((r) => `| \`${r.route}\`${r.stoppedEarly ? ` (stopped past ${config.stopAtMiB} MiB)` : ''} | ${r.requests} | ${r.readings} | ` +
      `${mib(r.heapBefore)} | ${mib(r.heapAfter)} | ${mib(r.growth)} | ${fmt(r.growth / r.readings, 1)} | ${fmt(r.seconds, 1)} | ${r.met ? 'yes' : 'no'} |`),
    '',
    failed ? '**The run had errors** (a non-200 answer, a reading count that is not one per check per request, or a second Fastify): see the JSON.\n' : ''
  ].join('\n')
  writeResults(config.out, { meta: { node: process.version, code, config, finished: new Date().toISOString() }, rows }, md)
  if (failed) process.exitCode = 1
}

const route = process.env.BENCH_MEMORY_ROUTE
if (route !== undefined) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')
  await pollOneRoute(route)
} else {
  await runMain(main, killAll)
}
