// What one process.nextTick() costs after a full garbage collection, with no plugin at all: a
// Node.js behaviour that the many-checks benches ran into (bench/README.md, "Many checks").
// Each figure is a fresh process (this file again, with BENCH_NEXT_TICK_MODE set) that warms
// nextTick up, then, by mode: does nothing more (`none`); runs full GCs while no tick is queued
// (`gc-idle`), as an idle server's GC does; or runs them with a tick queued (`gc-queued`). Then
// it measures its own CPU time over batches of 1,000 nextTick calls, one turn of the event loop
// per batch. `node bench/next-tick-gc.mjs` (no build needed; seconds). Results in
// bench/results/next-tick-gc.{json,md}.
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { fmt, median, numberFromEnv, pinnedNode, runMain, trackChildren, writeResults } from './common.mjs'

const MODES = ['none', 'gc-idle', 'gc-queued']

if (process.env.BENCH_NEXT_TICK_MODE !== undefined) await measure(process.env.BENCH_NEXT_TICK_MODE)
else {
  const config = {
    rounds: numberFromEnv('BENCH_ROUNDS', 5, { min: 1, integer: true }),
    collections: numberFromEnv('BENCH_COLLECTIONS', 3, { min: 1, integer: true }),
    cpu: process.env.BENCH_CPU ?? String(os.availableParallelism() - 1)
  }
  const { children, killAll } = trackChildren('next-tick process')
  const pinnedChild = pinnedNode(children, config.cpu)
  const { pinned } = pinnedChild

  /** One mode in a fresh process, pinned to one CPU when it can be. */
  const run = (mode) => pinnedChild.run(mode, ['--expose-gc', fileURLToPath(import.meta.url)],
    { BENCH_NEXT_TICK_MODE: mode, BENCH_COLLECTIONS: String(config.collections) })

  await runMain(async () => {
    const runs = []
    for (let round = 1; round <= config.rounds; round++) {
      for (const mode of round % 2 === 1 ? MODES : [...MODES].reverse()) {
        const { nsPerCall } = await run(mode)
        console.log(`  round ${round} ${mode.padEnd(9)} ${fmt(nsPerCall, 1)} ns CPU per nextTick`)
        runs.push({ mode, round, nsPerCall })
      }
    }
    const of = (mode) => runs.filter((each) => each.mode === mode).map((each) => each.nsPerCall)
    const rows = MODES.map((mode) => ({ mode, nsPerCall: median(of(mode)), min: Math.min(...of(mode)), max: Math.max(...of(mode)) }))
    const md = [
      `# process.nextTick() after a full GC (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
      '',
      `node ${process.version}. Each figure: a fresh process${pinned ? ` pinned to one CPU (taskset -c ${config.cpu})` : ''}; nextTick warmed up, then ` +
        `${config.collections} full GCs (\`gc()\`) or none, then its own CPU time over 200 batches of 1,000 nextTick calls (one turn of the event loop each), ` +
        `after 7 such runs not counted; medians of ${config.rounds} alternating rounds (min-max after).`,
      '',
      '| mode | what ran before | ns of CPU per nextTick |',
      '| --- | --- | --: |',
      ...rows.map((row) => `| ${row.mode} | ${{ none: 'no full GC', 'gc-idle': 'full GCs, no tick queued', 'gc-queued': 'full GCs, a tick queued during each' }[row.mode]} | ${fmt(row.nsPerCall, 1)} (${fmt(row.min, 1)}-${fmt(row.max, 1)}) |`),
      ''
    ].join('\n')
    writeResults(process.env.BENCH_OUT ?? 'next-tick-gc', { meta: { node: process.version, config, pinned, finished: new Date().toISOString() }, rows, runs }, md)
  }, killAll)
}

/** The child: one mode, then one JSON line with the CPU ns per nextTick call of the last run. */
async function measure (mode) {
  const noop = () => {}
  for (let i = 0; i < 3000; i++) process.nextTick(noop)
  await sleep(50)
  const collections = mode === 'none' ? 0 : Number(process.env.BENCH_COLLECTIONS)
  for (let i = 0; i < collections; i++) {
    if (mode === 'gc-queued') process.nextTick(noop)
    globalThis.gc()
    await sleep(1)
  }
  let nsPerCall = NaN
  for (let run = 0; run < 8; run++) {
    await sleep(100)
    const before = process.cpuUsage()
    for (let batch = 0; batch < 200; batch++) {
      for (let call = 0; call < 1000; call++) process.nextTick(noop)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const used = process.cpuUsage(before)
    nsPerCall = (used.user + used.system) * 1000 / 200_000
  }
  console.log(JSON.stringify({ mode, nsPerCall }))
}
