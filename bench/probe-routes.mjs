// Do the default probe routes slow /health (issue 13)? In fresh server processes, alternating: a
// bare Fastify route (bench/servers/baseline.mjs), state-only /health with the defaults (probes
// and drill-down on), and with `probes: false`; each after a warm-up, with the server's own CPU
// read around the run. Reported: per variant, the median over pairs of its req/s and CPU per
// request divided by the bare route's in the same pair. Run by `npm run bench`, or
// `node bench/probe-routes.mjs` after a build.
import { setTimeout as sleep } from 'node:timers/promises'
import { fmt, median, numberFromEnv, runMain, writeResults } from './common.mjs'
import { freshRun, killAll } from './harness.mjs'

const config = {
  pairs: numberFromEnv('BENCH_PAIRS', 8, { min: 1, integer: true }),
  warmup: numberFromEnv('BENCH_WARMUP', 4, { min: 0.25 }),
  duration: numberFromEnv('BENCH_DURATION', 3, { min: 0.25 }),
  connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
  pipelining: numberFromEnv('BENCH_PROBE_PIPELINING', 10, { min: 1, integer: true }),
  out: process.env.BENCH_OUT ?? 'probe-routes'
}

const variants = [
  { name: 'bare route', file: 'baseline.mjs', env: {} },
  { name: '/health, defaults', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{}' } },
  { name: '/health, probes: false', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{"probes":false}' } }
]

async function main () {
  console.log(`fastify-health probe-routes bench: ${config.pairs} rounds of ${variants.length} fresh processes, ${config.warmup} s of warm-up and ` +
    `${config.duration} s measured each; about ${Math.ceil(config.pairs * variants.length * (config.warmup + config.duration + 1.5) / 60)} min`)
  const runs = []
  for (let pair = 0; pair < config.pairs; pair++) {
    // Alternate which one goes first, so that a drift of the machine falls on each the same.
    const order = pair % 2 === 0 ? variants : [...variants].reverse()
    for (const variant of order) {
      const run = await freshRun(variant.file, { env: variant.env, ...config })
      runs.push({ variant: variant.name, pair: pair + 1, rps: run.rps, cpuUsPerRequest: run.cpuUsPerRequest, non2xx: run.non2xx, errors: run.errors })
      console.log(`  pair ${pair + 1} ${variant.name.padEnd(24)} ${fmt(run.rps, 0).padStart(7)} req/s ${fmt(run.cpuUsPerRequest, 2).padStart(6)} µs CPU/req`)
      await sleep(200)
    }
  }
  const bare = (pair) => runs.find((run) => run.variant === variants[0].name && run.pair === pair)
  const rows = variants.map(({ name }) => {
    const own = runs.filter((run) => run.variant === name)
    const rpsRatios = own.map((run) => run.rps / bare(run.pair).rps)
    return {
      variant: name,
      rps: median(own.map((run) => run.rps)),
      cpuUsPerRequest: median(own.map((run) => run.cpuUsPerRequest)),
      rpsVsBare: median(rpsRatios),
      cpuVsBare: median(own.map((run) => run.cpuUsPerRequest / bare(run.pair).cpuUsPerRequest)),
      pairsAtOrAbove: rpsRatios.filter((ratio) => ratio >= 1).length,
      failed: own.some((run) => run.non2xx > 0 || run.errors > 0)
    }
  })
  const md = [
    `# /health beside the default probe routes (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `node ${process.version}. ${config.pairs} rounds; in each, every variant in a fresh process: ${config.warmup} s of warm-up, then ${config.duration} s of ` +
      `autocannon (${config.connections} connections, pipelining ${config.pipelining}). Ratios: the median over rounds of the variant / the bare route of the same round.`,
    '',
    '| variant | req/s | req/s x bare | rounds at or above the bare route | CPU µs/req | CPU x bare |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.variant}${r.failed ? ' (errors!)' : ''} | ${fmt(r.rps, 0)} | ${fmt(r.rpsVsBare, 3)} | ${r.pairsAtOrAbove} of ${config.pairs} | ` +
      `${fmt(r.cpuUsPerRequest, 2)} | ${fmt(r.cpuVsBare, 3)} |`),
    ''
  ].join('\n')
  writeResults(config.out, { meta: { node: process.version, config, finished: new Date().toISOString() }, rows, runs }, md)
  if (rows.some((row) => row.failed)) process.exitCode = 1
}

await runMain(main, killAll)
