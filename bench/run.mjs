// Benchmark of fastify-health against the ceiling (node:http), a bare Fastify route (the
// baseline) and its peers. Run with `npm run bench` (builds first); see bench/README.md.
//
// Each target is a server in its own process (bench/servers/<target>.mjs), started one at a
// time on 127.0.0.1; the load comes from autocannon in this process. Per round and per
// pipelining value, every target gets a fresh process, an uncounted warm-up, then a measured
// run; around the measured run the server reports its own CPU time (process.cpuUsage()),
// RSS and check counters over IPC. Rounds rotate the order of the targets. Figures are medians
// over rounds; ratios are to the baseline of the same run.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  chooseTargets, fmt, listFromEnv, median, numberFromEnv, resultsDir, TARGETS, runMain, versionOf, writeResults
} from './common.mjs'
import { killAll, load, machineCpu, probe, serverStats, startServer, stopServer } from './harness.mjs'

// ---------------------------------------------------------------------------------------
// Configuration

const quick = process.env.BENCH_QUICK === '1'

const config = {
  quick,
  // Seconds of measured load per target, per round, per pipelining value.
  duration: numberFromEnv('BENCH_DURATION', quick ? 1 : 3, { min: 0.25 }),
  // Seconds of load before each measured run, not counted.
  warmup: numberFromEnv('BENCH_WARMUP', quick ? 0.5 : 3, { min: 0.25 }),
  rounds: numberFromEnv('BENCH_ROUNDS', quick ? 1 : 3, { min: 1, integer: true }),
  connections: numberFromEnv('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
  pipelining: listFromEnv('BENCH_PIPELINING', ['1', '10']).map(Number),
  // Comma-separated target names to run (the baseline always runs).
  only: listFromEnv('BENCH_TARGETS', null),
  // Comma-separated target names to start with `node --cpu-prof` (their figures then carry
  // the profiler's overhead: for looking into where the time goes, not for comparing).
  profile: listFromEnv('BENCH_PROFILE', []),
  // Skip the "RSS added by the plugin" probe with BENCH_RSS=0.
  rss: process.env.BENCH_RSS !== '0',
  // Pairs of processes (bare, with the plugin) in the RSS probe: RSS varies by a few MiB from
  // one process to the next, so the median needs more than a few.
  rssPairs: numberFromEnv('BENCH_RSS_PAIRS', quick ? 1 : 7, { min: 1, integer: true }),
  // The machine is shared: a measured run during which other processes used more than this
  // percentage of one core is done again (at most BENCH_RETRIES times); the quietest is kept.
  maxForeignPct: numberFromEnv('BENCH_MAX_FOREIGN', 15),
  retries: numberFromEnv('BENCH_RETRIES', quick ? 0 : 2, { integer: true }),
  // Retries in all, as a fraction of the planned measured runs: on a machine that stays busy,
  // retrying everything would only triple the time.
  retryBudget: numberFromEnv('BENCH_RETRY_BUDGET', 0.2),
  out: process.env.BENCH_OUT ?? (quick ? 'quick' : 'latest')
}
if (config.pipelining.some((p) => !Number.isInteger(p) || p < 1)) throw new Error('BENCH_PIPELINING: expected integers >= 1')

// A check's results are cached this long by the health-checks target (its cacheFor).
const CHECK_CACHE_FOR_S = 1

// ---------------------------------------------------------------------------------------
// Measurements

const MiB = 1024 * 1024
const skipped = new Map() // target name -> reason
const failures = [] // { target, pipelining, round, error }
const probes = new Map() // target name -> first probe answer
const runs = [] // one per target, round and pipelining value
let retriesLeft = 0 // set in main() from BENCH_RETRY_BUDGET

function profileArgs (target, tag) {
  if (!config.profile.includes(target)) return []
  const dir = path.join(resultsDir, 'profiles')
  mkdirSync(dir, { recursive: true })
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${target}-${tag}.cpuprofile`]
}

/** One measured run on a warm server: the load, and the server's own counters around it. */
async function measuredRun (child, url, pipelining) {
  const before = await serverStats(child)
  const machineBefore = machineCpu()
  const measured = await load(url, { duration: config.duration, pipelining, connections: config.connections })
  const machineAfter = machineCpu()
  const after = await serverStats(child)

  const cpuUs = (after.cpu.user - before.cpu.user) + (after.cpu.system - before.cpu.system)
  let checkCalls = null
  if (after.counts !== null) {
    checkCalls = {}
    for (const name of Object.keys(after.counts)) checkCalls[name] = after.counts[name] - (before.counts?.[name] ?? 0)
  }
  // Other processes' CPU during the run, in percent of one core (server and load excluded).
  let foreignPct = null
  let stealPct = null
  if (machineBefore !== null && machineAfter !== null) {
    const foreignUs = Math.max(0, machineAfter.busyUs - machineBefore.busyUs - cpuUs - measured.loadCpuUs)
    foreignPct = (100 * foreignUs) / (measured.seconds * 1e6)
    stealPct = (100 * (machineAfter.stealUs - machineBefore.stealUs)) / (measured.seconds * 1e6)
  }
  return {
    ...measured,
    cpuUsPerRequest: measured.requests > 0 ? cpuUs / measured.requests : null,
    cpuUs,
    loadCpuUsPerRequest: measured.requests > 0 ? measured.loadCpuUs / measured.requests : null,
    // The load generator does the same work per response for every target, so its own CPU per
    // request tracks how fast this (virtual) machine runs at the moment: the server's CPU over
    // it is a figure that the machine's drift cancels out of.
    cpuPerLoadCpu: measured.requests > 0 && measured.loadCpuUs > 0 ? cpuUs / measured.loadCpuUs : null,
    foreignPct,
    stealPct,
    rssWarmMiB: before.rss / MiB,
    rssLoadMiB: after.rss / MiB,
    checkCalls
  }
}

async function measure (target, pipelining, round) {
  const execArgv = profileArgs(target.name, `p${pipelining}-r${round + 1}`)
  const { child, info } = await startServer(target.file, { env: target.env, execArgv })
  try {
    if (!info.ready) {
      skipped.set(target.name, info.skipped)
      console.log(`  ${target.name.padEnd(20)} skipped: ${info.skipped}`)
      return
    }
    const url = `http://${info.host}:${info.port}${info.path}`
    const started = await serverStats(child)
    const answer = await probe(url)
    if (!probes.has(target.name)) probes.set(target.name, { url: info.path, ...answer })
    if (target.skipOn404 && answer.statusCode === 404) {
      skipped.set(target.name, `GET ${info.path} answers 404`)
      return
    }

    await load(url, { duration: config.warmup, pipelining, connections: config.connections })
    let run
    let attempts = 0
    for (let attempt = 0; attempt <= config.retries; attempt++) {
      attempts++
      const candidate = await measuredRun(child, url, pipelining)
      if (run === undefined || (candidate.foreignPct ?? 0) < (run.foreignPct ?? 0)) run = candidate
      if ((run.foreignPct ?? 0) <= config.maxForeignPct) break
      if (attempt === config.retries || retriesLeft <= 0) break
      retriesLeft--
      console.log(`  ${target.name.padEnd(20)} noisy: other processes took ${fmt(candidate.foreignPct, 0)}% of a core; measuring again`)
    }
    run = { target: target.name, pipelining, round: round + 1, attempts, rssStartMiB: started.rss / MiB, ...run }
    runs.push(run)
    const checkCalls = run.checkCalls
    console.log(`  ${target.name.padEnd(20)} ${fmt(run.rps, 0).padStart(7)} req/s  ${fmt(run.cpuUsPerRequest, 1).padStart(6)} µs CPU/req` +
      `  p50 ${fmt(run.p50, 2)} ms  p99 ${fmt(run.p99, 2)} ms  non-2xx ${run.non2xx}  errors ${run.errors}  other CPU ${fmt(run.foreignPct, 0)}%` +
      (checkCalls === null ? '' : `  check calls ${Object.values(checkCalls).join(',')}`))
  } finally {
    await stopServer(child, execArgv.length > 0 ? 15000 : 3000)
  }
}

/**
 * RSS added by the plugin: the baseline server alone vs the same with fastify-health
 * registered, both after the same amount of load (pipelining 1): first `warmup` seconds on
 * the bare route, then `warmup` seconds on /health for the plugin process (so its code is
 * warm too) or on the bare route again for the bare one. Heap is read after a forced GC.
 */
async function rssProbe (round) {
  const variants = [
    { name: 'bare', env: { BENCH_TARGET: 'rss-bare' }, second: '/' },
    { name: 'plugin', env: { BENCH_TARGET: 'rss-plugin', BENCH_WITH_HEALTH: '1' }, second: '/health' }
  ]
  if (round % 2 === 1) variants.reverse()
  const result = { round: round + 1 }
  for (const variant of variants) {
    const { child, info } = await startServer('baseline.mjs', { env: variant.env, execArgv: ['--expose-gc'] })
    try {
      const started = await serverStats(child)
      const base = `http://${info.host}:${info.port}`
      await load(base + '/', { duration: config.warmup, pipelining: 1, connections: config.connections })
      await load(base + variant.second, { duration: config.warmup, pipelining: 1, connections: config.connections })
      const warm = await serverStats(child)
      const collected = await serverStats(child, { gc: true })
      result[variant.name] = {
        rssStartMiB: started.rss / MiB,
        rssWarmMiB: warm.rss / MiB,
        newSpaceWarmMiB: warm.newSpace / MiB,
        heapAfterGcMiB: collected.heapUsed / MiB
      }
    } finally {
      await stopServer(child)
    }
  }
  console.log(`  RSS probe: bare ${fmt(result.bare.rssWarmMiB, 1)} MiB, with plugin ${fmt(result.plugin.rssWarmMiB, 1)} MiB` +
    ` (+${fmt(result.plugin.rssWarmMiB - result.bare.rssWarmMiB, 2)} MiB; new space +${fmt(result.plugin.newSpaceWarmMiB - result.bare.newSpaceWarmMiB, 2)} MiB;` +
    ` heap after GC +${fmt(result.plugin.heapAfterGcMiB - result.bare.heapAfterGcMiB, 2)} MiB)`)
  return result
}

// ---------------------------------------------------------------------------------------
// Summary

function summarize (targets) {
  const summary = {}
  for (const pipelining of config.pipelining) {
    const rows = {}
    for (const target of targets) {
      const own = runs.filter((r) => r.target === target.name && r.pipelining === pipelining)
      if (own.length === 0) continue
      const pick = (key) => median(own.map((r) => r[key]))
      const row = {
        label: target.label,
        rounds: own.length,
        rps: pick('rps'),
        cpuUsPerRequest: pick('cpuUsPerRequest'),
        p50: pick('p50'),
        p99: pick('p99'),
        non2xx: own.reduce((sum, r) => sum + r.non2xx, 0),
        errors: own.reduce((sum, r) => sum + r.errors, 0),
        rssWarmMiB: pick('rssWarmMiB'),
        rssLoadMiB: pick('rssLoadMiB'),
        loadCpuUsPerRequest: pick('loadCpuUsPerRequest'),
        foreignPct: pick('foreignPct')
      }
      if (own[0].checkCalls !== null) {
        row.checkCalls = {}
        for (const name of Object.keys(own[0].checkCalls)) row.checkCalls[name] = median(own.map((r) => r.checkCalls[name]))
        row.checkCallsExpected = median(own.map((r) => r.seconds)) / CHECK_CACHE_FOR_S
      }
      rows[target.name] = row
    }
    // Ratios to the baseline, paired by round: each round's figure over the baseline's of the
    // same round, then the median. Pairing cancels the drift of a shared machine between rounds
    // (a slow round slows every target). The ratio of the medians is kept in the JSON too.
    const base = rows.baseline
    const paired = (name, baseName, key) => {
      const baseRuns = runs.filter((r) => r.target === baseName && r.pipelining === pipelining)
      return median(runs
        .filter((r) => r.target === name && r.pipelining === pipelining)
        .map((r) => {
          const b = baseRuns.find((x) => x.round === r.round)
          return b?.[key] ? r[key] / b[key] : null
        }))
    }
    for (const [name, row] of Object.entries(rows)) {
      row.rpsRatio = paired(name, 'baseline', 'rps')
      row.cpuRatio = paired(name, 'baseline', 'cpuUsPerRequest')
      row.cpuNormRatio = paired(name, 'baseline', 'cpuPerLoadCpu')
      row.rpsRatioOfMedians = base?.rps ? row.rps / base.rps : null
      row.cpuRatioOfMedians = base?.cpuUsPerRequest ? row.cpuUsPerRequest / base.cpuUsPerRequest : null
    }
    // A target with a baseline of its own (same answer): its ratios to that one, paired the same way.
    for (const own of TARGETS.filter((t) => t.baselineOf !== undefined)) {
      const row = rows[own.baselineOf]
      if (row === undefined || rows[own.name] === undefined) continue
      row.ownBaseline = {
        name: own.name,
        rpsRatio: paired(own.baselineOf, own.name, 'rps'),
        cpuRatio: paired(own.baselineOf, own.name, 'cpuUsPerRequest'),
        cpuNormRatio: paired(own.baselineOf, own.name, 'cpuPerLoadCpu'),
        p99: rows[own.name].p99
      }
    }
    summary[pipelining] = rows
  }
  return summary
}

/** The issue's targets, checked against this run (measured, not asserted in tests). */
function assess (summary, rss) {
  const lines = []
  const verdict = (ok) => ok === null ? 'n/a' : ok ? 'met' : 'NOT met'
  for (const [pipelining, rows] of Object.entries(summary)) {
    const base = rows.baseline
    const health = rows.health
    const checks = rows['health-checks']
    const peers = Object.entries(rows).filter(([name]) => TARGETS.find((t) => t.name === name)?.peer)
    const bestPeer = peers.reduce((best, [name, row]) => (best === null || row.rpsRatio > best.row.rpsRatio ? { name, row } : best), null)
    const cheapestPeer = peers.reduce((best, [name, row]) => (best === null || row.cpuRatio < best.row.cpuRatio ? { name, row } : best), null)
    if (health && base) {
      lines.push(`pipelining ${pipelining}: /health state only req/s >= baseline: ${fmt(health.rpsRatio, 3)}x, ${verdict(health.rpsRatio >= 1)}`)
      lines.push(`pipelining ${pipelining}: /health state only CPU/request <= baseline: ${fmt(health.cpuRatio, 3)}x, ${verdict(health.cpuRatio <= 1)}`)
    }
    const headerless = rows['health-no-cache-header']
    if (headerless && base) {
      lines.push(`pipelining ${pipelining}: the same with cacheControl: false (no Cache-Control header, like the baseline): ` +
        `req/s ${fmt(headerless.rpsRatio, 3)}x, ${verdict(headerless.rpsRatio >= 1)}; CPU/request ${fmt(headerless.cpuRatio, 3)}x, ${verdict(headerless.cpuRatio <= 1)}`)
    }
    if (checks?.ownBaseline) {
      const same = checks.ownBaseline
      lines.push(`pipelining ${pipelining}: /health with checks req/s >= 0.9 x a bare route with the same answer (${same.name}): ${fmt(same.rpsRatio, 3)}x, ${verdict(same.rpsRatio >= 0.9)}` +
        ` (CPU/request ${fmt(same.cpuRatio, 3)}x)`)
      lines.push(`pipelining ${pipelining}: /health with checks p99 <= that route's p99 + 1 ms: ${fmt(checks.p99, 2)} vs ${fmt(same.p99 + 1, 2)} ms, ${verdict(checks.p99 <= same.p99 + 1)}`)
    }
    if (checks && base) {
      lines.push(`pipelining ${pipelining}: /health with checks req/s >= 0.9 x baseline (68-byte answer): ${fmt(checks.rpsRatio, 3)}x, ${verdict(checks.rpsRatio >= 0.9)}`)
      lines.push(`pipelining ${pipelining}: /health with checks p99 <= baseline p99 + 1 ms: ${fmt(checks.p99, 2)} vs ${fmt(base.p99 + 1, 2)} ms, ${verdict(checks.p99 <= base.p99 + 1)}`)
    } else if (base) {
      lines.push(`pipelining ${pipelining}: /health with checks: n/a (${skipped.has('health-checks') ? 'target skipped' : 'not measured in this run'})`)
    }
    if (bestPeer !== null) {
      for (const [name, row] of [['/health state only', health], ['/health with checks', checks]]) {
        if (!row) continue
        lines.push(`pipelining ${pipelining}: ${name} ahead of every peer in req/s (best: ${bestPeer.name}, ${fmt(bestPeer.row.rpsRatio, 3)}x): ` +
          `${fmt(row.rpsRatio, 3)}x, ${verdict(row.rpsRatio > bestPeer.row.rpsRatio)}; ` +
          `in CPU/request (cheapest: ${cheapestPeer.name}, ${fmt(cheapestPeer.row.cpuRatio, 3)}x): ${fmt(row.cpuRatio, 3)}x, ${verdict(row.cpuRatio < cheapestPeer.row.cpuRatio)}`)
      }
    }
  }
  if (rss !== null) {
    lines.push(`RSS added by the plugin < 2 MiB: ${fmt(rss.addedRssMiB, 2)} MiB, ${verdict(rss.addedRssMiB < 2)}`)
  }
  return lines
}

function markdown (report) {
  const { meta, summary, rss, assessment } = report
  const out = []
  out.push(`# fastify-health benchmark (${meta.finished.slice(0, 16).replace('T', ' ')} UTC)`)
  out.push('')
  out.push(`node ${meta.node}, fastify ${meta.versions.fastify}, autocannon ${meta.versions.autocannon}, ${meta.cpus} CPUs (${meta.cpuModel}), ` +
    `commit ${meta.commit}. ${meta.config.connections} connections; ${meta.config.rounds} round(s) of ${meta.config.duration} s per target ` +
    `after ${meta.config.warmup} s of uncounted warm-up; medians over rounds${meta.config.quick ? ' (QUICK MODE: smoke check, not a measurement)' : ''}` +
    `${meta.config.profile.length > 0 ? `; PROFILED (with --cpu-prof): ${meta.config.profile.join(', ')}` : ''}.`)
  out.push('Ratios (x) are to the baseline of the same run, paired by round (median of each round\'s target / baseline). CPU is the server\'s own (user + system) per request; the load generator shares the 2 cores, so req/s differences are compressed and CPU/request is the sharper figure. "CPU x norm" divides each run\'s server CPU by the load generator\'s own CPU in that run (same work per response for every target), which cancels the VM\'s changing speed. "other CPU %" is what other processes on this shared machine took during the measured run, in percent of one core (runs above ' + meta.config.maxForeignPct + '% were measured again, up to ' + meta.config.retries + ' times each and ' + meta.retriesUsed + ' times in all; the quietest attempt is kept).')
  for (const [pipelining, rows] of Object.entries(summary)) {
    out.push('')
    out.push(`## Pipelining ${pipelining}`)
    out.push('')
    out.push('| target | req/s | req/s x | CPU µs/req | CPU x | CPU x norm | p50 ms | p99 ms | non-2xx | errors | RSS warm MiB | RSS load MiB | other CPU % |')
    out.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
    for (const [name, row] of Object.entries(rows)) {
      out.push(`| ${name} | ${fmt(row.rps, 0)} | ${fmt(row.rpsRatio, 3)} | ${fmt(row.cpuUsPerRequest, 1)} | ${fmt(row.cpuRatio, 3)} | ${fmt(row.cpuNormRatio, 3)} | ` +
        `${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} | ${row.non2xx} | ${row.errors} | ${fmt(row.rssWarmMiB, 1)} | ${fmt(row.rssLoadMiB, 1)} | ${fmt(row.foreignPct, 0)} |`)
    }
    const checks = rows['health-checks']
    if (checks?.ownBaseline) {
      const same = checks.ownBaseline
      out.push('')
      out.push(`health-checks against ${same.name} (a bare route answering the same document), paired by round: ` +
        `req/s ${fmt(same.rpsRatio, 3)}x, CPU/request ${fmt(same.cpuRatio, 3)}x (norm ${fmt(same.cpuNormRatio, 3)}x), p99 ${fmt(checks.p99, 2)} vs ${fmt(same.p99, 2)} ms.`)
    }
    if (checks?.checkCalls) {
      out.push('')
      out.push(`Check function calls during the measured run (median over rounds; expected about ${fmt(checks.checkCallsExpected, 1)}, one per ${CHECK_CACHE_FOR_S} s): ` +
        Object.entries(checks.checkCalls).map(([name, calls]) => `${name} ${calls}`).join(', '))
    }
  }
  if (rss !== null) {
    out.push('')
    out.push('## RSS added by the plugin')
    out.push('')
    out.push(`The baseline process alone vs the same process with fastify-health registered, same load; medians over ${rss.rounds.length} pairs of processes.`)
    out.push('')
    out.push('| process | RSS after start MiB | RSS after warm-up MiB | of which V8 new space MiB | heap used after GC MiB |')
    out.push('|---|--:|--:|--:|--:|')
    out.push(`| bare Fastify | ${fmt(rss.bare.rssStartMiB, 2)} | ${fmt(rss.bare.rssWarmMiB, 2)} | ${fmt(rss.bare.newSpaceWarmMiB, 2)} | ${fmt(rss.bare.heapAfterGcMiB, 2)} |`)
    out.push(`| + fastify-health | ${fmt(rss.plugin.rssStartMiB, 2)} | ${fmt(rss.plugin.rssWarmMiB, 2)} | ${fmt(rss.plugin.newSpaceWarmMiB, 2)} | ${fmt(rss.plugin.heapAfterGcMiB, 2)} |`)
    out.push(`| added | ${fmt(rss.addedRssStartMiB, 2)} | ${fmt(rss.addedRssMiB, 2)} | ${fmt(rss.addedNewSpaceMiB, 2)} | ${fmt(rss.addedHeapMiB, 2)} |`)
    out.push('')
    out.push('RSS moves with what V8 and the allocator keep reserved (the young generation, which load can grow: new space column; compiled code; freed but unreturned pages), so it varies by a few MiB from process to process; heap used after a forced GC is what the plugin keeps alive.')
  }
  out.push('')
  out.push('## Targets (measured, not asserted)')
  out.push('')
  for (const line of assessment) out.push(`- ${line}`)
  out.push('')
  out.push('## Skipped or failed')
  out.push('')
  if (report.skipped.length === 0 && report.failures.length === 0) out.push('- none: every target of this run ran')
  for (const { target, reason } of report.skipped) out.push(`- ${target}: skipped, ${reason}`)
  for (const { target, pipelining, round, error } of report.failures) out.push(`- ${target} (pipelining ${pipelining}, round ${round}): FAILED, ${error.split('\n')[0]}`)
  out.push('')
  out.push('## What each target answered')
  out.push('')
  out.push('| target | path | status | content-type | bytes | body |')
  out.push('|---|---|--:|---|--:|---|')
  for (const [name, answer] of Object.entries(report.probes)) {
    out.push(`| ${name} | ${answer.url} | ${answer.statusCode} | ${answer.contentType ?? ''} | ${answer.bytes} | \`${answer.body.replaceAll('|', '\\|').replaceAll('`', "'")}\` |`)
  }
  const sizes = meta.checksAnswerBytes
  if (sizes['health-checks'] !== null && sizes['baseline-checks'] !== null) {
    out.push('')
    out.push(`health-checks answered ${sizes['health-checks']} bytes at its first request (its process checks not settled yet), baseline-checks ${sizes['baseline-checks']} bytes (a copy of a settled answer).`)
  }
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------
// Main

async function preconditions () {
  // The package must be built: the servers import it by self-reference.
  try {
    await import('fastify-health')
  } catch (error) {
    throw new Error(`cannot import fastify-health (run \`npm run build\` first, or use \`npm run bench\`): ${error.message}`)
  }
}

async function main () {
  await preconditions()
  // The baselines always run: every ratio needs its own.
  const targets = chooseTargets(config.only)

  const perRun = config.warmup + config.duration + 1
  const estimate = config.rounds * config.pipelining.length * targets.length * perRun + (config.rss ? config.rssPairs * 2 * (2 * config.warmup + 1.5) : 0)
  const worst = estimate + Math.floor(config.retryBudget * config.rounds * config.pipelining.length * targets.length) * config.duration
  console.log(`fastify-health bench: ${targets.length} targets, pipelining ${config.pipelining.join(' and ')}, ${config.connections} connections, ` +
    `${config.rounds} round(s) of ${config.duration} s after ${config.warmup} s of warm-up; about ${Math.ceil(estimate / 60)} min` +
    `${worst > estimate ? ` (up to ${Math.ceil(worst / 60)} with retries of noisy runs)` : ''}${quick ? ' (quick mode)' : ''}`)
  if (config.profile.length > 0) console.log(`profiling ${config.profile.join(', ')} into bench/results/profiles (their figures include the profiler's cost)`)

  retriesLeft = Math.floor(config.retryBudget * config.rounds * config.pipelining.length * targets.length)
  const rssRounds = []
  const started = new Date()
  for (let round = 0; round < config.rounds; round++) {
    for (const pipelining of config.pipelining) {
      // Round-robin: each round (and each pipelining value in it) starts one target further on.
      const active = targets.filter((t) => !skipped.has(t.name))
      const shift = (round * config.pipelining.length + config.pipelining.indexOf(pipelining)) % active.length
      const order = [...active.slice(shift), ...active.slice(0, shift)]
      console.log(`round ${round + 1}/${config.rounds}, pipelining ${pipelining}`)
      for (const target of order) {
        if (skipped.has(target.name)) continue
        try {
          await measure(target, pipelining, round)
        } catch (error) {
          // A target that fails (crash, refused connection, bad answer) is reported, not fatal.
          failures.push({ target: target.name, pipelining, round: round + 1, error: error.message })
          console.log(`  ${target.name.padEnd(20)} FAILED: ${error.message.split('\n')[0]}`)
        }
        await sleep(200) // let the sockets and the CPU settle before the next server
      }
    }
  }
  if (config.rss) {
    for (let pair = 0; pair < config.rssPairs; pair++) rssRounds.push(await rssProbe(pair))
  }

  let rss = null
  if (rssRounds.length > 0) {
    const pick = (variant, key) => median(rssRounds.map((r) => r[variant][key]))
    rss = {
      rounds: rssRounds,
      bare: {},
      plugin: {}
    }
    for (const variant of ['bare', 'plugin']) {
      for (const key of ['rssStartMiB', 'rssWarmMiB', 'newSpaceWarmMiB', 'heapAfterGcMiB']) rss[variant][key] = pick(variant, key)
    }
    rss.addedRssStartMiB = median(rssRounds.map((r) => r.plugin.rssStartMiB - r.bare.rssStartMiB))
    rss.addedRssMiB = median(rssRounds.map((r) => r.plugin.rssWarmMiB - r.bare.rssWarmMiB))
    rss.addedHeapMiB = median(rssRounds.map((r) => r.plugin.heapAfterGcMiB - r.bare.heapAfterGcMiB))
    rss.addedNewSpaceMiB = median(rssRounds.map((r) => r.plugin.newSpaceWarmMiB - r.bare.newSpaceWarmMiB))
  }

  const summary = summarize(targets)
  let commit = null
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim() } catch { /* not a git tree */ }
  const baselineBody = probes.get('baseline')?.body
  const healthBody = probes.get('health')?.body
  const report = {
    meta: {
      started: started.toISOString(),
      finished: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      commit,
      versions: Object.fromEntries(['fastify', 'autocannon', '@fastify/under-pressure', 'fastify-healthcheck', '@godaddy/terminus', 'lightship']
        .map((name) => [name, versionOf(name)])),
      config,
      retriesUsed: runs.reduce((sum, run) => sum + run.attempts - 1, 0),
      sameBodyAsBaseline: baselineBody !== undefined && healthBody !== undefined ? baselineBody === healthBody : null,
      // The checks target's answer changes with its readings; its baseline's is a copy of one.
      checksAnswerBytes: { 'health-checks': probes.get('health-checks')?.bytes ?? null, 'baseline-checks': probes.get('baseline-checks')?.bytes ?? null }
    },
    summary,
    rss,
    assessment: [],
    skipped: [...skipped].map(([target, reason]) => ({ target, reason })),
    failures,
    probes: Object.fromEntries(probes),
    runs
  }
  report.assessment = assess(summary, rss)

  writeResults(config.out, report, markdown(report))
  if (failures.length > 0) process.exitCode = 1
}

await runMain(main, killAll)
