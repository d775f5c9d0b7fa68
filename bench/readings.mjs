// The CPU one reading costs on an idle instance (issue 19): 100 and 1,000 checks, each run in the
// background every 100 ms (`interval: 100`), no requests at all. The baseline: bare timers, a
// setTimeout loop per check every 100 ms running the same check functions and keeping their
// results in a Map, which is what an application would write without the plugin. Target: at most
// 2x the bare loop. Run with `npm run bench:readings` (builds first), or `node bench/readings.mjs`
// after a build.
//
// Every measurement is a fresh process (this file again, with BENCH_READINGS_TARGET set), pinned
// to one CPU with taskset when there is one, so that the GC's helper threads share the CPU
// they would share in a container of one core. Both kinds load Fastify and make an app (not
// listening), so the only difference is what runs the checks. After a warm-up, the process's own
// CPU time (process.cpuUsage(): user + system, every thread) over a fixed window is divided by
// the readings made in it, which the check functions count. Rounds alternate the order of the
// targets; the ratio is paired by round (plugin / bare loop of the same count in the same round),
// then the median over rounds.
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { fmt, listFromEnv, median, numberFromEnv, pinnedNode, rootDir, runMain, trackChildren, versionOf, writeResults } from './common.mjs'

/** Which code ran: the last commit of lib/, and whether lib/ had changes not committed yet. */
function codeVersion () {
  const git = (...args) => execFileSync('git', args, { cwd: rootDir, encoding: 'utf8' }).trim()
  try {
    return `lib/ at ${git('log', '-1', '--format=%h', '--', 'lib')}${git('status', '--porcelain', '--', 'lib') === '' ? '' : ' with uncommitted changes'}`
  } catch { return 'lib/ at an unknown commit' }
}

const quick = process.env.BENCH_QUICK === '1'
const config = {
  counts: listFromEnv('BENCH_READINGS_COUNTS', ['100', '1000']).map(Number),
  intervalMs: numberFromEnv('BENCH_READINGS_INTERVAL', 100, { min: 1, integer: true }),
  rounds: numberFromEnv('BENCH_ROUNDS', quick ? 1 : 5, { min: 1, integer: true }),
  // 5 s: past the start-up, where each check's history rings grow once, at its 17th reading
  // (1.7 s at 100 ms), and the collection that growth sets off; a reading's cost is what follows.
  // `BENCH_WARMUP=2 BENCH_OUT=readings-startup` measures a window with the start-up in it.
  warmup: numberFromEnv('BENCH_WARMUP', quick ? 1 : 5, { min: 0 }),
  window: numberFromEnv('BENCH_WINDOW', quick ? 2 : 8, { min: 0.5 }),
  // The CPU the processes are pinned to (the last one by default); `none` leaves them unpinned.
  cpu: process.env.BENCH_CPU ?? String(os.availableParallelism() - 1),
  targetRatio: 2,
  out: process.env.BENCH_OUT ?? (quick ? 'readings-quick' : 'readings')
}

/** The check every target runs: what a cheap dependency check returns. */
function checkFunction (counter) {
  return async () => {
    counter.readings++
    return { observedValue: 1, observedUnit: 'ms' }
  }
}

/** fastify-health runs the checks: `interval` on each, nothing requested. */
async function startPlugin (app, count, counter) {
  const { default: fastifyHealth } = await import('fastify-health')
  await app.register(fastifyHealth, { serviceName: 'bench-readings' })
  for (let i = 0; i < count; i++) {
    app.health.addCheck(`dep${i}:responseTime`, checkFunction(counter), { interval: config.intervalMs })
  }
  app.health.setStateWorking()
}

/** The baseline: a setTimeout loop per check, each result kept in a Map. */
function startBareLoops (count, counter) {
  const results = new Map()
  for (let i = 0; i < count; i++) {
    const name = `dep${i}:responseTime`
    const check = checkFunction(counter)
    const loop = async () => {
      try {
        results.set(name, { status: 'pass', detail: await check(), at: Date.now() })
      } catch (error) {
        results.set(name, { status: 'fail', output: String(error), at: Date.now() })
      }
      setTimeout(loop, config.intervalMs)
    }
    loop()
  }
  return results
}

/** The child: one target started, measured over the window; prints one JSON line and exits. */
async function measureOne (kind, count) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  const counter = { readings: 0 }
  if (kind === 'plugin') await startPlugin(app, count, counter)
  await app.ready()
  const results = kind === 'bare' ? startBareLoops(count, counter) : null
  const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  await sleep(config.warmup)
  const readingsBefore = counter.readings
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await sleep(config.window)
  const cpu = process.cpuUsage(cpuBefore)
  const seconds = (performance.now() - started) / 1000
  const readings = counter.readings - readingsBefore
  const cpuUs = cpu.user + cpu.system
  process.stdout.write(JSON.stringify({
    kind,
    count,
    seconds,
    readings,
    // Each check every interval, were a run to take no time at all.
    readingsPerSecondIdeal: count * 1000 / config.intervalMs,
    cpuUs,
    usPerReading: readings > 0 ? cpuUs / readings : null,
    cpuPercent: (cpuUs / 1e4) / seconds,
    kept: results === null ? null : results.size
  }) + '\n')
  process.exit(0)
}

const { children, killAll } = trackChildren('readings bench process')

const { pinned, run } = pinnedNode(children, config.cpu)

/** One target in a fresh process; resolves with its JSON line. */
function runTarget (kind, count) {
  return run(`${kind}-${count}`, [fileURLToPath(import.meta.url)], { BENCH_READINGS_TARGET: `${kind}:${count}` })
}

async function main () {
  const code = codeVersion()
  // `idle`: Fastify and nothing else, for what a process costs before any check (the net columns).
  const targets = [{ kind: 'idle', count: 0 }, ...config.counts.flatMap((count) => [{ kind: 'plugin', count }, { kind: 'bare', count }])]
  console.log(`fastify-health readings bench: ${config.counts.join(' and ')} checks every ${config.intervalMs} ms, ` +
    `${config.rounds} rounds of ${config.window} s after ${config.warmup} s, ${pinned ? `pinned to CPU ${config.cpu}` : 'not pinned'}; ` +
    `about ${Math.ceil(targets.length * config.rounds * (config.window + config.warmup + 0.7) / 60)} min`)
  const runs = []
  for (let round = 1; round <= config.rounds; round++) {
    for (const { kind, count } of round % 2 === 1 ? targets : [...targets].reverse()) {
      const run = { round, ...await runTarget(kind, count), loadAverage: os.loadavg()[0] }
      console.log(`  round ${round} ${`${kind}-${count}`.padEnd(12)} ${String(run.readings).padStart(7)} readings ` +
        `${fmt(run.usPerReading, 2).padStart(7)} µs CPU/reading  ${fmt(run.cpuPercent, 2)}% of a CPU  (load ${fmt(run.loadAverage, 1)})`)
      runs.push(run)
    }
  }
  const of = (kind, count, round) => runs.find((run) => run.kind === kind && run.count === count && run.round === round)
  /** µs per reading once the idle process's CPU of the same round, over as long, is taken out. */
  const net = (run) => {
    const idle = of('idle', 0, run.round)
    return (run.cpuUs - idle.cpuUs / idle.seconds * run.seconds) / run.readings
  }
  const idleCpuPercent = median(runs.filter((run) => run.kind === 'idle').map((run) => run.cpuPercent))
  const rows = config.counts.map((count) => {
    const plugin = runs.filter((run) => run.kind === 'plugin' && run.count === count)
    const bare = runs.filter((run) => run.kind === 'bare' && run.count === count)
    const ratios = plugin.map((run) => run.usPerReading / of('bare', count, run.round).usPerReading)
    const netRatios = plugin.map((run) => net(run) / net(of('bare', count, run.round)))
    return {
      count,
      pluginUsPerReading: median(plugin.map((run) => run.usPerReading)),
      bareUsPerReading: median(bare.map((run) => run.usPerReading)),
      pluginRange: [Math.min(...plugin.map((run) => run.usPerReading)), Math.max(...plugin.map((run) => run.usPerReading))],
      bareRange: [Math.min(...bare.map((run) => run.usPerReading)), Math.max(...bare.map((run) => run.usPerReading))],
      pluginReadingsPerSecond: median(plugin.map((run) => run.readings / run.seconds)),
      bareReadingsPerSecond: median(bare.map((run) => run.readings / run.seconds)),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      pluginNetUsPerReading: median(plugin.map(net)),
      bareNetUsPerReading: median(bare.map(net)),
      netRatio: median(netRatios)
    }
  })
  const range = ([low, high], digits) => `${fmt(low, digits)}-${fmt(high, digits)}`
  const md = [
    `# CPU per reading on an idle instance (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `node ${process.version}, fastify ${versionOf('fastify')}, ${code}. Each check runs every ${config.intervalMs} ms (\`interval: ${config.intervalMs}\`), ` +
      'no requests. Bare loop: a setTimeout loop per check running the same async check function, results kept in a Map. ' +
      `Each figure: a fresh process${pinned ? ` pinned to one CPU (taskset -c ${config.cpu})` : ''}, ${config.warmup} s of warm-up, then its own CPU time ` +
      `(user + system) over ${config.window} s divided by the readings the check functions counted; medians of ${config.rounds} ` +
      `alternating rounds (min-max after), ratio paired by round. Target: at most ${config.targetRatio}x the bare loop.`,
    '',
    '| checks | fastify-health µs/reading | bare loop µs/reading | x bare loop | readings/s (plugin, bare) | target met | net µs/reading (plugin, bare) | net x bare loop |',
    '|--:|--:|--:|--:|--:|---|--:|--:|',
    ...rows.map((r) => `| ${r.count} | ${fmt(r.pluginUsPerReading, 2)} (${range(r.pluginRange, 2)}) | ${fmt(r.bareUsPerReading, 2)} (${range(r.bareRange, 2)}) | ` +
      `${fmt(r.ratio, 2)} (${range(r.ratioRange, 2)}) | ${fmt(r.pluginReadingsPerSecond, 0)}, ${fmt(r.bareReadingsPerSecond, 0)} | ${r.ratio <= config.targetRatio ? 'yes' : 'no'} | ` +
      `${fmt(r.pluginNetUsPerReading, 2)}, ${fmt(r.bareNetUsPerReading, 2)} | ${fmt(r.netRatio, 2)} |`),
    '',
    `Net: without the CPU of an idle process (Fastify, no checks; median ${fmt(idleCpuPercent, 2)}% of a CPU) of the same round over as long.`,
    ''
  ].join('\n')
  writeResults(config.out, { meta: { node: process.version, code, config: { ...config, pinned }, finished: new Date().toISOString() }, rows, runs }, md)
}

const target = process.env.BENCH_READINGS_TARGET
if (target !== undefined) {
  const [kind, count] = target.split(':')
  await measureOne(kind, Number(count))
} else {
  await runMain(main, killAll)
}
