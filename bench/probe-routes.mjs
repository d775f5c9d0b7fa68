// Do the default probe routes slow /health (issue 13)? Each variant is measured against a bare
// Fastify route (bench/servers/baseline.mjs) in 8 alternating pairs of fresh server processes:
// a warm-up, then autocannon with the server's own CPU read around the run. The variants:
// state-only /health with the defaults (probes and drill-down on), with `probes: false`, with
// `cacheControl: false` (the bare route sends no such header), and a bare route sending what
// /health sends (the same body, content type and Cache-Control header, from
// bench/servers/prebuilt-body.mjs), which is what those bytes cost with none of the plugin's
// work. Reported: per variant, the median over its pairs of its req/s and CPU per request divided
// by the bare route's. Run by `npm run bench`, or `node bench/probe-routes.mjs` after a build.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fmt, median, numberFromEnv, runMain, withScratchDir } from './common.mjs'
import { alternatingPairs, answerOf, killAll, writeRunResults } from './harness.mjs'

const quick = process.env.BENCH_QUICK === '1'
const config = {
  pairs: numberFromEnv('BENCH_PAIRS', quick ? 1 : 8, { min: 1, integer: true }),
  warmup: numberFromEnv('BENCH_WARMUP', quick ? 0.5 : 4, { min: 0.25 }),
  duration: numberFromEnv('BENCH_DURATION', quick ? 1 : 3, { min: 0.25 }),
  connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
  pipelining: numberFromEnv('BENCH_PROBE_PIPELINING', 10, { min: 1, integer: true }),
  out: process.env.BENCH_OUT ?? (quick ? 'probe-routes-quick' : 'probe-routes')
}

const bare = { name: 'bare route', file: 'baseline.mjs', env: {} }
const healthWith = (options) => ({ file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: JSON.stringify(options) } })
const healthVariants = [
  { name: '/health, defaults', ...healthWith({}) },
  { name: '/health, probes: false', ...healthWith({ probes: false }) },
  { name: '/health, cacheControl: false', ...healthWith({ cacheControl: false }) }
]

/** What state-only /health answers with the defaults: the copy the same-bytes route sends. */
async function healthBody () {
  const answer = await answerOf('health-options.mjs')
  if (answer.statusCode !== 200 || answer.cacheControl !== 'max-age=5') throw new Error(`/health answered ${answer.statusCode}, Cache-Control ${answer.cacheControl}`)
  return answer.body
}

async function main () {
  await withScratchDir('fastify-health-probe-routes-', async (scratch) => {
    const bodyFile = path.join(scratch, 'health.json')
    writeFileSync(bodyFile, await healthBody())
    const variants = [
      ...healthVariants,
      { name: 'bare route sending /health\'s bytes', file: 'prebuilt-body.mjs', env: { BENCH_BODY_FILE: bodyFile, BENCH_TARGET: 'same-bytes' } }
    ]
    console.log(`fastify-health probe-routes bench: ${variants.length} variants, each in ${config.pairs} pairs of fresh processes with the bare route, ` +
      `${config.warmup} s of warm-up and ${config.duration} s measured each; about ${Math.ceil(config.pairs * variants.length * 2 * (config.warmup + config.duration + 1.5) / 60)} min`)
    const runs = await alternatingPairs(bare, variants, config.pairs, config)
    const rows = variants.map(({ name }) => {
      const own = runs.filter((run) => run.target === name)
      const baseOf = (run) => runs.find((other) => other.target === bare.name && other.against === name && other.pair === run.pair)
      const rpsRatios = own.map((run) => run.rps / baseOf(run).rps)
      return {
        variant: name,
        rps: median(own.map((run) => run.rps)),
        cpuUsPerRequest: median(own.map((run) => run.cpuUsPerRequest)),
        rpsVsBare: median(rpsRatios),
        cpuVsBare: median(own.map((run) => run.cpuUsPerRequest / baseOf(run).cpuUsPerRequest)),
        pairsAtOrAbove: rpsRatios.filter((ratio) => ratio >= 1).length,
        failed: runs.some((run) => (run.target === name || run.against === name) && (run.non2xx > 0 || run.errors > 0))
      }
    })
    const bareRuns = runs.filter((run) => run.target === bare.name)
    const md = [
      `# /health beside the default probe routes (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
      '',
      `node ${process.version}. Each variant in ${config.pairs} pairs with the bare route (the bare route first in odd pairs, second in even ones), each run a fresh process: ` +
        `${config.warmup} s of warm-up, then ${config.duration} s of autocannon (${config.connections} connections, pipelining ${config.pipelining}). ` +
        'Ratios: the median over pairs of the variant / the bare route of the same pair.',
      '',
      '| variant | req/s | req/s x bare | pairs at or above the bare route | CPU µs/req | CPU x bare |',
      '|---|--:|--:|--:|--:|--:|',
      `| bare route | ${fmt(median(bareRuns.map((run) => run.rps)), 0)} | 1.000 | | ${fmt(median(bareRuns.map((run) => run.cpuUsPerRequest)), 2)} | 1.000 |`,
      ...rows.map((r) => `| ${r.variant}${r.failed ? ' (errors!)' : ''} | ${fmt(r.rps, 0)} | ${fmt(r.rpsVsBare, 3)} | ${r.pairsAtOrAbove} of ${config.pairs} | ` +
        `${fmt(r.cpuUsPerRequest, 2)} | ${fmt(r.cpuVsBare, 3)} |`),
      ''
    ].join('\n')
    writeRunResults(config, rows, runs, md)
  })
}

await runMain(main, killAll)
