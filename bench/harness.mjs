// What the wall-clock benches share: the server processes they start (tracked, and killed at the
// end whatever happens), the machine's CPU counters, one plain request, and the load itself.
import { execFileSync, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { readyLine, rootDir, ServerFailed, serversDir, trackChildren, writeResults } from './common.mjs'

// ---------------------------------------------------------------------------------------
// Server processes: every one started is tracked, and killed at the end whatever happens.

export const { children, killAll } = trackChildren('bench server')

/**
 * Each server on one CPU and the load generator (this process, autocannon) on the other, every
 * thread of each: on a 2-CPU machine they would otherwise take turns on both, and the server's
 * CPU per request would measure the load generator too. BENCH_CPU_SERVER (the last CPU) and
 * BENCH_CPU_LOAD (CPU 0) choose them; `none` for either, or a machine without taskset or with
 * one CPU, leaves both unpinned.
 */
export const pinning = (() => {
  const server = process.env.BENCH_CPU_SERVER ?? String(os.availableParallelism() - 1)
  const load = process.env.BENCH_CPU_LOAD ?? '0'
  if (server === 'none' || load === 'none' || server === load) return { pinned: false }
  try {
    execFileSync('taskset', ['-a', '-p', '-c', load, String(process.pid)], { stdio: 'ignore' })
  } catch {
    return { pinned: false }
  }
  return { pinned: true, server, load }
})()

/** Pins every thread of process `pid` to the server's CPU (see pinning). */
function pinServer (pid) {
  if (pinning.pinned) execFileSync('taskset', ['-a', '-p', '-c', pinning.server, String(pid)], { stdio: 'ignore' })
}

/**
 * Forks a bench server and waits for its ready line: resolves with { child, info } where
 * info is the parsed line ({ ready, port, path, pid } or { ready: false, skipped }).
 */
export async function startServer (file, { env = {}, execArgv = [], timeoutMs = 20000 } = {}) {
  const child = fork(path.join(serversDir, file), [], {
    cwd: rootDir,
    env: { ...process.env, BENCH_PORT: '0', ...env },
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000) })
  child.stderrTail = () => stderr.trim()

  const info = await readyLine(child, file, timeoutMs, child.stderrTail)
  pinServer(child.pid)
  return { child, info }
}

let statsId = 0

/** Asks a server for { cpu, rss, heapUsed, counts } over IPC. */
export function serverStats (child, { gc = false } = {}) {
  const id = ++statsId
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type !== 'stats' || message.id !== id) return
      done()
      resolve(message)
    }
    const onExit = (code, signal) => {
      done()
      reject(new ServerFailed(`server exited (${signal ?? code}) during the run\n${child.stderrTail()}`))
    }
    const timer = setTimeout(() => { done(); reject(new ServerFailed('no stats answer within 10 s')) }, 10000)
    const done = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
    child.send({ type: 'stats', id, gc })
  })
}

/** Asks a server to exit (normally, so --cpu-prof can write), then kills it if it lingers. */
export async function stopServer (child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try { child.send({ type: 'exit' }) } catch { /* channel already closed */ }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

// ---------------------------------------------------------------------------------------
// The rest of the machine: CPU used by every process, from /proc/stat (Linux only). Minus the
// server's and this process's own CPU, it is what other processes took during a run.

let ticksPerSecond = 100
try { ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100 } catch { /* keep 100 */ }

/** Busy and stolen CPU of the whole machine so far, in microseconds; null off Linux. */
export function machineCpu () {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const [user, nice, system, , , irq, softirq, steal = 0] = fields
    const us = (ticks) => (ticks * 1e6) / ticksPerSecond
    return { busyUs: us(user + nice + system + irq + softirq), stealUs: us(steal) }
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------
// HTTP: one plain request to see what a target answers, and the load itself.

/** One GET on a fresh connection: status, content type and the body (truncated unless `full`). */
export function probe (url, { full = false } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => { body += chunk })
      response.on('end', () => resolve({
        statusCode: response.statusCode,
        contentType: response.headers['content-type'] ?? null,
        cacheControl: response.headers['cache-control'] ?? null,
        bytes: Buffer.byteLength(body),
        body: !full && body.length > 600 ? body.slice(0, 600) + '…' : body
      }))
    })
    request.on('error', reject)
    request.setTimeout(5000, () => request.destroy(new Error(`GET ${url}: no answer within 5 s`)))
  })
}

function percentile (sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/**
 * Runs autocannon against `url`. Latencies are collected from every response (autocannon's
 * own histogram keeps whole milliseconds only; these keep the microseconds).
 */
export async function load (url, { duration, pipelining, connections }) {
  let latencies = new Float64Array(1 << 16)
  let count = 0
  const cpuBefore = process.cpuUsage()
  const instance = autocannon({
    url,
    connections,
    pipelining,
    duration,
    // autocannon stops on its sampling tick: a short tick keeps the duration close to the asked one.
    sampleInt: 250,
    timeout: 10
  })
  instance.on('response', (_client, _statusCode, _bytes, responseTime) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2)
      bigger.set(latencies)
      latencies = bigger
    }
    latencies[count++] = responseTime
  })
  const result = await instance
  const cpu = process.cpuUsage(cpuBefore)
  const sorted = latencies.subarray(0, count).sort()
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    loadCpuUs: cpu.user + cpu.system
  }
}

/**
 * One measurement in a fresh server process: started (with `settle`, collected twice while idle
 * first), `warmup` s of load not counted, then
 * `duration` s measured with the server's own CPU read around it; the process stopped after.
 * Resolves with requests per second, server CPU µs per request, errors and non-2xx answers.
 */
export async function freshRun (file, { env = {}, warmup, duration, pipelining, connections, settle = false }) {
  // settle: the server runs two full GCs before it says it is ready (bench/servers/_serve.mjs).
  const { child, info } = settle
    ? await startServer(file, { env: { ...env, BENCH_SETTLE: '1' }, execArgv: ['--expose-gc'] })
    : await startServer(file, { env })
  try {
    if (!info.ready) throw new ServerFailed(`${file}: ${info.skipped}`)
    const url = `http://${info.host}:${info.port}${info.path}`
    await load(url, { duration: warmup, pipelining, connections })
    const before = await serverStats(child)
    const run = await load(url, { duration, pipelining, connections })
    const after = await serverStats(child)
    const cpuUs = (after.cpu.user - before.cpu.user) + (after.cpu.system - before.cpu.system)
    return { ...run, url, cpuUsPerRequest: run.requests > 0 ? cpuUs / run.requests : null }
  } finally {
    await stopServer(child)
  }
}

/**
 * Measures every target (`{ name, file, env }`) in a fresh process per round, with freshRun();
 * every other round in reverse order, so that a drift of the machine falls on each alike.
 * Resolves with one `{ target, round, rps, cpuUsPerRequest, non2xx, errors }` per run.
 */
export async function alternatingRounds (targets, rounds, settings) {
  const runs = []
  const width = Math.max(...targets.map((target) => target.name.length))
  for (let round = 1; round <= rounds; round++) {
    for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
      runs.push(await measuredRun(target, { round }, width, settings))
    }
  }
  return runs
}

/**
 * Measures each variant against one baseline in pairs of fresh processes run back to back: the
 * baseline first in odd pairs, the variant first in even ones, so that neither gains from
 * the order and a drift of the machine between pairs cancels out of each pair's ratio.
 * Resolves with one `{ target, pair, against, rps, cpuUsPerRequest, non2xx, errors }` per run,
 * `against` naming the variant of the pair.
 */
export async function alternatingPairs (baseline, variants, pairs, settings) {
  const runs = []
  const width = Math.max(baseline.name.length, ...variants.map((variant) => variant.name.length))
  for (let pair = 1; pair <= pairs; pair++) {
    for (const variant of variants) {
      for (const target of pair % 2 === 1 ? [baseline, variant] : [variant, baseline]) {
        runs.push(await measuredRun(target, { pair, against: variant.name }, width, settings))
      }
    }
  }
  return runs
}

/** One freshRun() of a target, logged, tagged with `labels`; then a pause for the machine to settle. */
async function measuredRun (target, labels, width, settings) {
  const run = await freshRun(target.file, { env: target.env, ...settings })
  const where = labels.pair === undefined ? `round ${labels.round}` : `pair ${labels.pair}`
  console.log(`  ${where} ${target.name.padEnd(width)} ${run.rps.toFixed(0).padStart(7)} req/s ${run.cpuUsPerRequest?.toFixed(2).padStart(6)} µs CPU/req` +
    `  non-2xx ${run.non2xx} errors ${run.errors}`)
  // Let the sockets and the CPU settle before the next server.
  await new Promise((resolve) => setTimeout(resolve, 200))
  return { target: target.name, ...labels, rps: run.rps, cpuUsPerRequest: run.cpuUsPerRequest, non2xx: run.non2xx, errors: run.errors }
}

/**
 * The full answer of a bench server in a fresh process, after one request has let it settle
 * (its checks have readings by then): what prebuilt-body.mjs is given to send a copy of.
 */
export async function answerOf (file, env = {}) {
  const { child, info } = await startServer(file, { env })
  try {
    const url = `http://${info.host}:${info.port}${info.path}`
    await probe(url)
    return await probe(url, { full: true })
  } finally {
    await stopServer(child)
  }
}

/** Writes a bench's rows and runs with their settings, and fails the bench if a row had errors. */
export function writeRunResults (config, rows, runs, md) {
  writeResults(config.out, { meta: { node: process.version, config, pinning, finished: new Date().toISOString() }, rows, runs }, md)
  if (rows.some((row) => row.failed)) process.exitCode = 1
}
