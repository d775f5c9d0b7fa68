// Do the default probe routes slow /health (issue 13)? In fresh server processes, alternating: a
// bare Fastify route (bench/servers/baseline.mjs), state-only /health with the defaults (probes
// and drill-down on), with `probes: false`, with the probes beside /health instead of under it,
// and with `drillDown: false`; each after a warm-up, with the server's own CPU
// read around the run. Reported: per variant, the median over rounds of its req/s and CPU per
// request divided by the bare route's in the same round. Run by `npm run bench`, or
// `node bench/probe-routes.mjs` after a build.
import { fmt, median, numberFromEnv, runMain, writeResults } from './common.mjs'
import { alternatingRounds, killAll } from './harness.mjs'

const quick = process.env.BENCH_QUICK === '1'
const config = {
  rounds: numberFromEnv('BENCH_ROUNDS', quick ? 1 : 8, { min: 1, integer: true }),
  warmup: numberFromEnv('BENCH_WARMUP', quick ? 0.5 : 4, { min: 0.25 }),
  duration: numberFromEnv('BENCH_DURATION', quick ? 1 : 3, { min: 0.25 }),
  connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
  pipelining: numberFromEnv('BENCH_PROBE_PIPELINING', 10, { min: 1, integer: true }),
  out: process.env.BENCH_OUT ?? (quick ? 'probe-routes-quick' : 'probe-routes')
}

const variants = [
  { name: 'bare route', file: 'baseline.mjs', env: {} },
  { name: '/health, defaults', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{}' } },
  { name: '/health, probes: false', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{"probes":false}' } },
  // The probes beside /health instead of under it, as Kubernetes' API server has them.
  { name: '/health, probes beside', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{"probes":{"live":"/livez","ready":"/readyz","started":"/startz"}}' } },
  { name: '/health, drillDown: false', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{"drillDown":false}' } }
]

async function main () {
  console.log(`fastify-health probe-routes bench: ${config.rounds} rounds of ${variants.length} fresh processes, ${config.warmup} s of warm-up and ` +
    `${config.duration} s measured each; about ${Math.ceil(config.rounds * variants.length * (config.warmup + config.duration + 1.5) / 60)} min`)
  const runs = await alternatingRounds(variants, config.rounds, config)
  const bare = (round) => runs.find((run) => run.target === variants[0].name && run.round === round)
  const rows = variants.map(({ name }) => {
    const own = runs.filter((run) => run.target === name)
    const rpsRatios = own.map((run) => run.rps / bare(run.round).rps)
    return {
      variant: name,
      rps: median(own.map((run) => run.rps)),
      cpuUsPerRequest: median(own.map((run) => run.cpuUsPerRequest)),
      rpsVsBare: median(rpsRatios),
      cpuVsBare: median(own.map((run) => run.cpuUsPerRequest / bare(run.round).cpuUsPerRequest)),
      roundsAtOrAbove: rpsRatios.filter((ratio) => ratio >= 1).length,
      failed: own.some((run) => run.non2xx > 0 || run.errors > 0)
    }
  })
  const md = [
    `# /health beside the default probe routes (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `node ${process.version}. ${config.rounds} rounds; in each, every variant in a fresh process: ${config.warmup} s of warm-up, then ${config.duration} s of ` +
      `autocannon (${config.connections} connections, pipelining ${config.pipelining}). Ratios: the median over rounds of the variant / the bare route of the same round.`,
    '',
    '| variant | req/s | req/s x bare | rounds at or above the bare route | CPU µs/req | CPU x bare |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.variant}${r.failed ? ' (errors!)' : ''} | ${fmt(r.rps, 0)} | ${fmt(r.rpsVsBare, 3)} | ${r.roundsAtOrAbove} of ${config.rounds} | ` +
      `${fmt(r.cpuUsPerRequest, 2)} | ${fmt(r.cpuVsBare, 3)} |`),
    ''
  ].join('\n')
  writeResults(config.out, { meta: { node: process.version, config, finished: new Date().toISOString() }, rows, runs }, md)
  if (rows.some((row) => row.failed)) process.exitCode = 1
}

await runMain(main, killAll)
