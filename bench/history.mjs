// What the history (issue 21) costs with 1,000 checks: the RSS and heap its full rings add (each
// check fed `readings` readings, the default 3,600), and the per-request cost of /health with
// details hidden, history on against history: false and against no check at all (the scaling
// target: at least 0.95x of none), in alternating fresh processes, the server pinned to one CPU
// and the load to the other (bench/harness.mjs).
// `node bench/history.mjs` after `npm run build`; about two minutes. Results in
// bench/results/history.{json,md}. The file is also the bench's server (BENCH_HISTORY_SERVER=1).
import { setTimeout as sleep } from 'node:timers/promises'
import { fmt, median, numberFromEnv, runMain, writeResults } from './common.mjs'

if (process.env.BENCH_HISTORY_SERVER === '1') await serve()
else {
  const { alternatingRounds, killAll, pinning, serverStats, startServer, stopServer } = await import('./harness.mjs')
  const quick = process.env.BENCH_QUICK === '1'
  const config = {
    checks: numberFromEnv('BENCH_CHECKS', 1000, { min: 1, integer: true }),
    readings: numberFromEnv('BENCH_READINGS', quick ? 200 : 3600, { min: 1, integer: true }),
    rounds: numberFromEnv('BENCH_ROUNDS', quick ? 1 : 3, { min: 1, integer: true }),
    duration: numberFromEnv('BENCH_DURATION', quick ? 1 : 4, { min: 0.25 }),
    warmup: numberFromEnv('BENCH_WARMUP', quick ? 0.5 : 2, { min: 0.25 }),
    connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
    pipelining: numberFromEnv('BENCH_PIPELINING', 10, { min: 1, integer: true }),
    // Each server collected twice while idle before its load (bench/harness.mjs); BENCH_SETTLE=0: not.
    settle: process.env.BENCH_SETTLE !== '0',
    out: process.env.BENCH_OUT ?? (quick ? 'history-quick' : 'history')
  }
  const SELF = '../history.mjs'

  /** A process with the checks, each fed `readings` readings, then its RSS, heap and array buffers (the rings' typed arrays) after a GC. */
  async function filled (history) {
    const env = { BENCH_HISTORY_SERVER: '1', BENCH_MODE: 'fill', BENCH_HISTORY: history, BENCH_CHECKS: String(config.checks), BENCH_READINGS: String(config.readings) }
    const { child } = await startServer(SELF, { env, execArgv: ['--expose-gc'], timeoutMs: 600_000 })
    try {
      const { rss, heapUsed, counts } = await serverStats(child, { gc: true })
      return { rss, heapUsed, arrayBuffers: counts.arrayBuffers }
    } finally {
      await stopServer(child)
    }
  }

  await runMain(async () => {
    console.log(`history bench: ${config.checks} checks, ${config.readings} readings each, then ${config.rounds} rounds of /health (details hidden)`)
    const memory = { off: await filled('off'), on: await filled('on') }
    const added = { rss: memory.on.rss - memory.off.rss, heapUsed: memory.on.heapUsed - memory.off.heapUsed, arrayBuffers: memory.on.arrayBuffers - memory.off.arrayBuffers }
    const MiB = 1024 * 1024
    console.log(`  memory added: RSS ${fmt(added.rss / MiB, 1)} MiB, heap ${fmt(added.heapUsed / MiB, 1)} MiB, array buffers ${fmt(added.arrayBuffers / MiB, 1)} MiB`)

    const targets = [
      { name: 'none', file: SELF, env: { BENCH_HISTORY_SERVER: '1', BENCH_MODE: 'load', BENCH_HISTORY: 'on', BENCH_CHECKS: '0' } },
      ...['off', 'on'].map((history) => ({
        name: `history-${history}`,
        file: SELF,
        env: { BENCH_HISTORY_SERVER: '1', BENCH_MODE: 'load', BENCH_HISTORY: history, BENCH_CHECKS: String(config.checks) }
      }))
    ]
    const runs = await alternatingRounds(targets, config.rounds, config)
    const of = (name, round) => runs.find((run) => run.target === name && run.round === round)
    /** The median over rounds of a target's figure over another target's of the same round. */
    const paired = (name, other, figure) => median(runs.filter((run) => run.target === name).map((run) => run[figure] / of(other, run.round)[figure]))
    const rows = targets.map(({ name }) => ({
      target: name,
      rps: median(runs.filter((run) => run.target === name).map((run) => run.rps)),
      cpuUsPerRequest: median(runs.filter((run) => run.target === name).map((run) => run.cpuUsPerRequest)),
      rpsVsNone: paired(name, 'none', 'rps'),
      cpuVsNone: paired(name, 'none', 'cpuUsPerRequest'),
      rpsVsOff: paired(name, 'history-off', 'rps'),
      failed: runs.some((run) => run.target === name && (run.non2xx > 0 || run.errors > 0))
    }))
    const perReading = (added.heapUsed + added.arrayBuffers) / (config.checks * config.readings)
    const md = [
      `# History: memory and /health with ${config.checks} checks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
      '',
      `Each check fed ${config.readings} readings (the rings' default size is 3,600), then RSS, V8 heap and array buffers (the rings' typed arrays live there) after a GC, against history: false. ` +
        `Added per reading kept (heap and array buffers): ${fmt(perReading, 1)} bytes.`,
      '',
      '| | RSS | heap used | array buffers |',
      '| --- | ---: | ---: | ---: |',
      ...['off', 'on'].map((key) => `| history ${key === 'off' ? 'false' : 'on'} | ${fmt(memory[key].rss / MiB, 1)} MiB | ${fmt(memory[key].heapUsed / MiB, 1)} MiB | ${fmt(memory[key].arrayBuffers / MiB, 1)} MiB |`),
      `| added | ${fmt(added.rss / MiB, 1)} MiB | ${fmt(added.heapUsed / MiB, 1)} MiB | ${fmt(added.arrayBuffers / MiB, 1)} MiB |`,
      '',
      `/health, details hidden, async checks of 5 ms cached 1 s (none: no check); ${config.rounds} alternating rounds of fresh processes, ` +
        `${config.settle ? 'each server collected twice while idle (two full GCs, as a server that has run a while has had: see bench/next-tick-gc.mjs), then ' : ''}` +
      `${config.duration} s after ${config.warmup} s, ${config.connections} connections, pipelining ${config.pipelining}` +
        `${pinning.pinned ? `, the server on CPU ${pinning.server} and the load on CPU ${pinning.load}` : ', not pinned'}; medians, ratios paired by round. ` +
        'Target (the scaling bench\'s): 1,000 checks serve at least 0.95x the requests of none, at most 1/0.95 of its CPU per request.',
      '',
      '| target | req/s | server µs CPU/req | req/s vs none | CPU/req vs none | req/s vs history: false |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((row) => `| ${row.target} | ${fmt(row.rps, 0)} | ${fmt(row.cpuUsPerRequest, 2)} | ${fmt(row.rpsVsNone, 3)}x | ${fmt(row.cpuVsNone, 3)}x | ${fmt(row.rpsVsOff, 3)}x |`),
      ''
    ].join('\n')
    console.log(md)
    writeResults(config.out, { meta: { node: process.version, config, pinning, finished: new Date().toISOString() }, memory, added, perReading, rows, runs }, md)
    if (rows.some((row) => row.failed)) process.exitCode = 1
  }, killAll)
}

/** The bench's server: `fill` feeds every check its readings and waits; `load` serves /health under load. */
async function serve () {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyHealth } = await import('fastify-health')
  const { announce, listenPort, HOST } = await import('./servers/_serve.mjs')
  const checks = Number(process.env.BENCH_CHECKS)
  const fill = process.env.BENCH_MODE === 'fill'
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'bench', exposeDetails: false, history: process.env.BENCH_HISTORY === 'on' })
  for (let i = 0; i < checks; i++) {
    const check = fill
      ? () => ({ observedValue: i, observedUnit: 'ms' })
      : async () => { await sleep(5); return { observedValue: 5, observedUnit: 'ms' } }
    app.health.addCheck(`dep${i}:responseTime`, check, { cacheFor: fill ? 0 : 1000 })
  }
  app.health.setStateWorking()
  await app.ready()
  // Every request to /health runs every check once (cacheFor 0): one reading each.
  // A turn of the event loop after each request, as a server has: inject() in a loop that never
  // yields piles up what waits for the next turn (setImmediate), and the heap with it (bench/README.md).
  if (fill) {
    for (let reading = 0; reading < Number(process.env.BENCH_READINGS); reading++) {
      await app.inject('/health')
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await app.listen({ host: HOST, port: listenPort() })
  // Read when the stats are asked for: the typed arrays of the rings are array buffers, outside the V8 heap.
  const counts = { get arrayBuffers () { return process.memoryUsage().arrayBuffers } }
  announce({ target: `history-${process.env.BENCH_HISTORY}`, port: app.server.address().port, path: '/health', counts })
}
