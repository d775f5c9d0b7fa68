// How the cost of /health grows with the number of checks (issue 13): fastify-health with 0, 10,
// 100 and 1,000 checks (async, 5 ms, cached 1 s), details hidden and shown. Run with
// `npm run bench` (after bench/run.mjs) or `node bench/scaling.mjs` after a build.
//
// Every measurement is a fresh server process (bench/servers/health-scale.mjs): a warm-up, then
// autocannon with the server's own CPU read around the run. Rounds alternate the order of the
// targets. Details hidden: the body is the same whatever the count, so the ratio to 0 checks is
// the plugin's cost per check. Details shown: the body grows with the count, so each count is
// also compared with a bare route sending the same body (bench/servers/prebuilt-body.mjs, given
// a copy of the count's own answer): the plugin's cost beyond sending it.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fmt, listFromEnv, median, numberFromEnv, runMain, withScratchDir } from './common.mjs'
import { alternatingRounds, answerOf, killAll, writeRunResults } from './harness.mjs'

const quick = process.env.BENCH_QUICK === '1'
const config = {
  counts: listFromEnv('BENCH_SCALE_COUNTS', ['0', '10', '100', '1000']).map(Number),
  rounds: numberFromEnv('BENCH_ROUNDS', quick ? 1 : 3, { min: 1, integer: true }),
  duration: numberFromEnv('BENCH_DURATION', quick ? 1 : 4, { min: 0.25 }),
  warmup: numberFromEnv('BENCH_WARMUP', quick ? 0.5 : 3, { min: 0.25 }),
  connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
  pipelining: numberFromEnv('BENCH_SCALE_PIPELINING', 10, { min: 1, integer: true }),
  out: process.env.BENCH_OUT ?? (quick ? 'scaling-quick' : 'scaling')
}
if (!config.counts.includes(0)) throw new Error('BENCH_SCALE_COUNTS: 0 is the baseline of the ratios and must be in the list')

async function main () {
  await withScratchDir('fastify-health-scaling-', async (scratch) => {
    const targets = []
    for (const count of config.counts) {
      targets.push({ name: `checks-${count}-hidden`, count, kind: 'hidden', file: 'health-scale.mjs', env: { BENCH_CHECKS: String(count) } })
      if (count === 0) continue
      targets.push({ name: `checks-${count}-shown`, count, kind: 'shown', file: 'health-scale.mjs', env: { BENCH_CHECKS: String(count), BENCH_DETAILS: 'shown' } })
      const bodyFile = path.join(scratch, `body-${count}.json`)
      // The answer of `count` checks with details shown, once its checks have their readings.
      writeFileSync(bodyFile, (await answerOf('health-scale.mjs', { BENCH_CHECKS: String(count), BENCH_DETAILS: 'shown' })).body)
      targets.push({ name: `body-${count}`, count, kind: 'body', file: 'prebuilt-body.mjs', env: { BENCH_BODY_FILE: bodyFile, BENCH_TARGET: `body-${count}` } })
    }
    console.log(`fastify-health scaling bench: ${targets.length} targets, ${config.rounds} rounds of ${config.duration} s after ${config.warmup} s, ` +
      `${config.connections} connections, pipelining ${config.pipelining}; about ${Math.ceil(targets.length * config.rounds * (config.duration + config.warmup + 1.5) / 60)} min`)
    const runs = await alternatingRounds(targets, config.rounds, config)
    const of = (name, round) => runs.find((run) => run.target === name && run.round === round)
    /** Median over rounds of a target's figure divided by another's in the same round. */
    const ratio = (name, base, key) => median(runs.filter((run) => run.target === name).map((run) => run[key] / of(base, run.round)[key]))
    const rows = targets.map((target) => ({
      target: target.name,
      count: target.count,
      kind: target.kind,
      rps: median(runs.filter((run) => run.target === target.name).map((run) => run.rps)),
      cpuUsPerRequest: median(runs.filter((run) => run.target === target.name).map((run) => run.cpuUsPerRequest)),
      rpsVsNone: ratio(target.name, 'checks-0-hidden', 'rps'),
      cpuVsNone: ratio(target.name, 'checks-0-hidden', 'cpuUsPerRequest'),
      rpsVsBody: target.kind === 'shown' ? ratio(target.name, `body-${target.count}`, 'rps') : null,
      cpuVsBody: target.kind === 'shown' ? ratio(target.name, `body-${target.count}`, 'cpuUsPerRequest') : null,
      failed: runs.some((run) => run.target === target.name && (run.non2xx > 0 || run.errors > 0))
    }))
    const md = [
      `# /health and the number of checks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
      '',
      `node ${process.version}. Each figure: a fresh process, ${config.warmup} s of warm-up, ${config.duration} s of autocannon with ` +
        `${config.connections} connections at pipelining ${config.pipelining}; medians of ${config.rounds} alternating rounds, ratios paired by round. ` +
        'Checks: async, 5 ms, cached 1 s. `body-N`: a bare route sending a copy of the answer of N checks with details shown.',
      '',
      '| target | req/s | x 0 checks | CPU µs/req | CPU x 0 checks | req/s x same body | CPU x same body |',
      '|---|--:|--:|--:|--:|--:|--:|',
      ...rows.map((r) => `| ${r.target}${r.failed ? ' (errors!)' : ''} | ${fmt(r.rps, 0)} | ${fmt(r.rpsVsNone, 3)} | ${fmt(r.cpuUsPerRequest, 1)} | ` +
        `${fmt(r.cpuVsNone, 3)} | ${fmt(r.rpsVsBody, 3)} | ${fmt(r.cpuVsBody, 3)} |`),
      ''
    ].join('\n')
    writeRunResults(config, rows, runs, md)
  })
}

await runMain(main, killAll)
