// Deterministic per-request CPU cost of the bench servers: instructions executed (Ir), counted
// by valgrind's callgrind. Run with `npm run bench:instructions` (builds first); see
// bench/README.md.
//
// Why: wall-clock CPU time on a shared VM drifts between runs (bench/README.md), and `perf` counters
// are not available here. Callgrind counts the instructions each thread executes in user space,
// which do not depend on the speed of the machine.
//
// Each target's server (bench/servers/<target>.mjs) runs under valgrind in several separate
// processes (V8 sometimes settles into a slower JIT state for a whole process, so one process
// is not enough). Per process: an uncounted warm-up, then a few measured batches of a fixed
// number of requests (autocannon `amount`); the live counters are read with
// `callgrind_control -e Ir <pid>` before and after each batch. Ir/request = delta / responses.
import { spawn, execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import {
  chooseTargets as chooseNamedTargets, fmt, listFromEnv, median, numberFromEnv, readyLine, rootDir as root, ServerFailed,
  serversDir, runMain, trackChildren, versionOf, writeResults
} from './common.mjs'

const execFileAsync = promisify(execFile)

// ---------------------------------------------------------------------------------------
// Configuration

const config = {
  // Requests before the first measured batch, not counted (lets V8 optimize the hot paths).
  warmup: numberFromEnv('BENCH_IR_WARMUP', 15000, { min: 0, integer: true }),
  // Requests per measured batch, and measured batches per process.
  requests: numberFromEnv('BENCH_IR_REQUESTS', 3000, { min: 1, integer: true }),
  batches: numberFromEnv('BENCH_IR_BATCHES', 3, { min: 1, integer: true }),
  // Separate server processes per target (see the bimodal JIT note in bench/README.md).
  processes: numberFromEnv('BENCH_IR_PROCESSES', 3, { min: 1, integer: true }),
  // Server processes under valgrind at the same time.
  parallel: numberFromEnv('BENCH_IR_PARALLEL', 2, { min: 1, integer: true }),
  connections: numberFromEnv('BENCH_IR_CONNECTIONS', 10, { min: 1, integer: true }),
  // Comma-separated target names to run (the baseline always runs).
  only: listFromEnv('BENCH_TARGETS', null),
  out: process.env.BENCH_OUT ?? 'instructions'
}
// autocannon refuses fewer requests than connections.
if (config.requests < config.connections) throw new Error('BENCH_IR_REQUESTS: must be >= BENCH_IR_CONNECTIONS')
if (config.warmup > 0 && config.warmup < config.connections) throw new Error('BENCH_IR_WARMUP: must be 0 or >= BENCH_IR_CONNECTIONS')

// Startup of a server under valgrind (translating Node itself) takes ~15-30 s.
const READY_TIMEOUT_MS = 120000
// Rough throughput of a server under valgrind, for the time estimate only.
const ESTIMATE_REQ_PER_S = 400
const ESTIMATE_STARTUP_S = 25

/** Same targets as bench/run.mjs, plus baseline-checks (the same body as health-checks). */

// ---------------------------------------------------------------------------------------
// Server processes: every one started is tracked, and killed at the end whatever happens.

const { children, killAll } = trackChildren('server under valgrind')

function isRunning (child) {
  return child.exitCode === null && child.signalCode === null
}

/**
 * Starts a bench server under callgrind and waits for its ready line. The profile goes to
 * /dev/null: only the live counters are read. Spawned (no IPC channel): the server then
 * leaves its stats channel off, so nothing but HTTP runs in it.
 */
async function startServer (file, env = {}) {
  const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', path.join(serversDir, file)], {
    cwd: root,
    env: { ...process.env, BENCH_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000) })
  const stderrTail = () => stderr.trim()
  const info = await readyLine(child, file, READY_TIMEOUT_MS, stderrTail)
  return { child, info, stderrTail }
}

async function stopServer (child) {
  if (!isRunning(child)) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL') // nothing to flush: the profile goes to /dev/null
  await exited
}

// ---------------------------------------------------------------------------------------
// Counters

/**
 * Live Ir counters of every thread of a process under callgrind, as { [thread]: BigInt }.
 * Output lines look like `   Th 1  1,150,702,409` or `   Th10          3,122`; Thread 1 is
 * the main JS thread, the others V8's background threads (GC, concurrent compilation).
 */
async function readIr (pid) {
  const { stdout } = await execFileAsync('callgrind_control', ['-e', 'Ir', String(pid)], { timeout: 30000 })
  const threads = {}
  for (const line of stdout.split('\n')) {
    const match = /^\s*Th\s*(\d+)/.exec(line)
    if (match === null) continue
    const fields = line.trim().split(/\s+/)
    threads[match[1]] = BigInt(fields[fields.length - 1].replaceAll(',', ''))
  }
  if (threads['1'] === undefined) throw new ServerFailed(`callgrind_control -e Ir ${pid}: no counter for thread 1 in\n${stdout}`)
  return threads
}

/** Instructions executed between two readings: main thread, all threads, and per thread. */
function irDelta (before, after) {
  const perThread = {}
  for (const [thread, value] of Object.entries(after)) perThread[thread] = Number(value - (before[thread] ?? 0n))
  const all = Object.values(perThread).reduce((sum, value) => sum + value, 0)
  return { main: perThread['1'], all, perThread }
}

// ---------------------------------------------------------------------------------------
// Load

/** One plain GET: the status code, to skip a route that does not exist yet. */
function probe (url) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode))
    })
    request.setTimeout(60000, () => request.destroy(new Error(`GET ${url}: no answer within 60 s`)))
    request.on('error', reject)
  })
}

/**
 * A fixed number of requests through autocannon. Stopped (and failed) if the server exits
 * meanwhile: autocannon would otherwise keep reconnecting to a dead port.
 */
async function load (child, url, amount, stderrTail) {
  const instance = autocannon({ url, connections: config.connections, amount, pipelining: 1 })
  let onExit
  const died = new Promise((resolve, reject) => {
    onExit = (code, signal) => {
      instance.stop()
      reject(new ServerFailed(`server exited (${signal ?? code}) during the load\n${stderrTail()}`))
    }
    child.once('exit', onExit)
  })
  try {
    const result = await Promise.race([instance, died])
    return {
      responses: result['2xx'] + result.non2xx,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts
    }
  } finally {
    child.off('exit', onExit)
  }
}

// ---------------------------------------------------------------------------------------
// One process of one target

/** One measured batch: counters read right before and right after a fixed load. */
async function batch (child, url, stderrTail) {
  const before = await readIr(child.pid)
  const result = await load(child, url, config.requests, stderrTail)
  const after = await readIr(child.pid)
  const delta = irDelta(before, after)
  const per = (value) => result.responses > 0 ? value / result.responses : null
  return {
    ...result,
    irMain: delta.main,
    irAll: delta.all,
    irPerRequestMain: per(delta.main),
    irPerRequestAll: per(delta.all),
    irPerThread: delta.perThread
  }
}

/**
 * Starts one server process, warms it up, measures its batches. Returns null when the
 * target skips itself (ready:false, or a 404 on a route that may not exist yet).
 */
async function measureProcess (target, index) {
  const { child, info, stderrTail } = await startServer(target.file, target.env)
  try {
    if (!info.ready) {
      skipped.set(target.name, info.skipped ?? 'the server said it cannot run')
      return null
    }
    if (info.pid !== undefined && info.pid !== child.pid) {
      console.log(`  note: ${target.name} #${index + 1}: ready line pid ${info.pid}, spawned pid ${child.pid} (reading the spawned one)`)
    }
    const url = `http://${info.host}:${info.port}${info.path}`
    const status = await probe(url)
    if (target.skipOn404 && status === 404) {
      skipped.set(target.name, `GET ${info.path} answers 404`)
      return null
    }
    const warm = config.warmup > 0 ? await load(child, url, config.warmup, stderrTail) : null
    const batches = []
    for (let i = 0; i < config.batches; i++) batches.push(await batch(child, url, stderrTail))
    return {
      target: target.name,
      process: index + 1,
      pid: child.pid,
      path: info.path,
      probeStatus: status,
      warmup: warm,
      batches,
      irPerRequestMain: median(batches.map((b) => b.irPerRequestMain)),
      irPerRequestAll: median(batches.map((b) => b.irPerRequestAll)),
      // Spread of the batches inside this process, (max - min) / median: usually ~2%.
      spreadMain: spread(batches.map((b) => b.irPerRequestMain))
    }
  } finally {
    await stopServer(child)
  }
}

function spread (values) {
  const mid = median(values)
  return mid ? (Math.max(...values) - Math.min(...values)) / mid : null
}

// ---------------------------------------------------------------------------------------
// Scheduling: a queue of (target, process) jobs, `parallel` of them at a time.

const skipped = new Map()
const failures = []
const processes = []

function kIr (value) {
  return value === null || value === undefined ? '–' : `${(value / 1000).toFixed(1)}k`
}

function minutes (seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`
}

async function runJobs (jobs) {
  const started = Date.now()
  let done = 0
  let busySeconds = 0
  const next = async () => {
    while (jobs.length > 0) {
      const { target, index } = jobs.shift()
      if (skipped.has(target.name)) { done++; continue }
      const jobStart = Date.now()
      try {
        const result = await measureProcess(target, index)
        if (result === null) {
          console.log(`  ${target.name.padEnd(20)} skipped: ${skipped.get(target.name)}`)
        } else {
          processes.push(result)
          logProcess(result)
        }
      } catch (error) {
        // A process that fails (crash, timeout, refused connection) is reported, not fatal.
        failures.push({ target: target.name, process: index + 1, error: error.message })
        console.log(`  ${target.name.padEnd(20)} #${index + 1} FAILED: ${error.message.split('\n')[0]}`)
      }
      done++
      busySeconds += (Date.now() - jobStart) / 1000
      const left = jobs.filter((job) => !skipped.has(job.target.name)).length
      const remaining = left * (busySeconds / done) / config.parallel
      console.log(`  [${done} done, ${left} queued] ${minutes((Date.now() - started) / 1000)} elapsed, about ${minutes(remaining)} left`)
    }
  }
  await Promise.all(Array.from({ length: config.parallel }, next))
}

function logProcess (result) {
  const batches = result.batches.map((b) => kIr(b.irPerRequestMain)).join(', ')
  const bad = result.batches.reduce((sum, b) => sum + b.non2xx + b.errors, 0)
  console.log(`  ${result.target.padEnd(20)} #${result.process}: main ${kIr(result.irPerRequestMain)} Ir/req ` +
    `(batches ${batches}), all threads ${kIr(result.irPerRequestAll)}${bad > 0 ? `, ${bad} non-2xx/errors` : ''}`)
}

// ---------------------------------------------------------------------------------------
// Summary

function summarize (targets) {
  const rows = {}
  for (const target of targets) {
    const own = processes.filter((p) => p.target === target.name)
    if (own.length === 0) continue
    const main = own.map((p) => p.irPerRequestMain)
    const all = own.map((p) => p.irPerRequestAll)
    const batches = own.flatMap((p) => p.batches)
    rows[target.name] = {
      label: target.label,
      processes: own.length,
      irPerRequestMain: median(main),
      irPerRequestMainMin: Math.min(...main),
      irPerRequestMainMax: Math.max(...main),
      irPerRequestAll: median(all),
      irPerRequestAllMin: Math.min(...all),
      irPerRequestAllMax: Math.max(...all),
      perProcessMain: main,
      requests: batches.reduce((sum, b) => sum + b.responses, 0),
      non2xx: batches.reduce((sum, b) => sum + b.non2xx, 0),
      errors: batches.reduce((sum, b) => sum + b.errors, 0),
      maxSpreadMain: Math.max(...own.map((p) => p.spreadMain ?? 0))
    }
  }
  // Ratios of the medians: processes are independent, so there is nothing to pair them by.
  for (const row of Object.values(rows)) {
    row.ratioMain = rows.baseline ? row.irPerRequestMain / rows.baseline.irPerRequestMain : null
    row.ratioAll = rows.baseline ? row.irPerRequestAll / rows.baseline.irPerRequestAll : null
  }
  return rows
}

/** health-checks against baseline-checks (the same body): what the checks cost beyond it. */
function checksComparison (rows) {
  const checks = rows['health-checks']
  const base = rows['baseline-checks']
  if (!checks || !base) return null
  return {
    ratioMain: checks.irPerRequestMain / base.irPerRequestMain,
    ratioAll: checks.irPerRequestAll / base.irPerRequestAll
  }
}

function markdown (report) {
  const { meta, summary, checks } = report
  const c = meta.config
  const out = []
  out.push(`# fastify-health: instructions per request (${meta.finished.slice(0, 16).replace('T', ' ')} UTC)`)
  out.push('')
  out.push(`node ${meta.node}, ${meta.valgrind}, fastify ${meta.versions.fastify}, autocannon ${meta.versions.autocannon}, commit ${meta.commit}. ` +
    `Each target in ${c.processes} separate server process(es) under callgrind; per process ${c.warmup} uncounted requests, then ` +
    `${c.batches} batch(es) of ${c.requests} requests (${c.connections} connections, pipelining 1). Ir/request is the process's median ` +
    'over its batches; the table gives the median over processes and, in brackets, the lowest and highest process. ' +
    'Ratios (x) are to the baseline\'s medians.')
  out.push('')
  out.push('| target | Ir/req main thread (min–max) | main x | Ir/req all threads (min–max) | all x | per process, main | requests | non-2xx | errors |')
  out.push('|---|--:|--:|--:|--:|---|--:|--:|--:|')
  for (const [name, row] of Object.entries(summary)) {
    out.push(`| ${name} | ${kIr(row.irPerRequestMain)} (${kIr(row.irPerRequestMainMin)}–${kIr(row.irPerRequestMainMax)}) | ${fmt(row.ratioMain, 3)} | ` +
      `${kIr(row.irPerRequestAll)} (${kIr(row.irPerRequestAllMin)}–${kIr(row.irPerRequestAllMax)}) | ${fmt(row.ratioAll, 3)} | ` +
      `${row.perProcessMain.map(kIr).join(', ')} | ${row.requests} | ${row.non2xx} | ${row.errors} |`)
  }
  if (checks !== null) {
    out.push('')
    out.push(`health-checks / baseline-checks (the same ~2 KB answer through a bare route, so the body's size is out of this ratio): main thread ${fmt(checks.ratioMain, 3)}x, all threads ${fmt(checks.ratioAll, 3)}x.`)
  }
  out.push('')
  out.push('## Reading it')
  out.push('')
  out.push('- Instructions executed in user space by the server process (Ir, k = thousands), counted by valgrind: deterministic up to V8\'s own choices, unlike CPU time on a shared VM. ' +
    '"main thread" is the JS thread (the request path); "all threads" adds V8\'s background threads (GC, concurrent compilation).')
  out.push('- Not counted: the kernel (system calls, the TCP loopback copy, which grows with the size of the answer), so bigger bodies look cheaper here than in CPU time; ' +
    'and an instruction count is not time (cache misses, branch mispredictions and allocation pressure weigh differently).')
  out.push('- Under valgrind a server answers ~100x fewer requests per second, so work done per second in the background (the check refreshes of health-checks, ' +
    'under-pressure\'s sampling) is spread over far fewer requests than in `npm run bench`: this table overstates that part.')
  out.push('- V8 sometimes settles into a slower JIT state for a whole process (the same target measured ~60k Ir/request in one process and ~106k in another, ' +
    'in Node\'s own HTTP code): hence several processes per target. A wide min–max means that happened; compare medians, and look at the per-process column.')
  out.push('')
  out.push('## Skipped or failed')
  out.push('')
  if (report.skipped.length === 0 && report.failures.length === 0) out.push('- none')
  for (const { target, reason } of report.skipped) out.push(`- ${target}: skipped, ${reason}`)
  for (const { target, process: proc, error } of report.failures) out.push(`- ${target} (process ${proc}): FAILED, ${error.split('\n')[0]}`)
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------
// Main

function toolVersion (command) {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } catch {
    return null
  }
}

async function preconditions () {
  const valgrind = toolVersion('valgrind')
  const control = toolVersion('callgrind_control')
  if (valgrind === null || control === null) {
    console.error(`bench/instructions.mjs needs valgrind and callgrind_control (from the valgrind package) on the PATH; missing: ${[valgrind === null && 'valgrind', control === null && 'callgrind_control'].filter(Boolean).join(', ')}`)
    process.exit(1)
  }
  // The package must be built: the servers import it by self-reference.
  try {
    await import('fastify-health')
  } catch (error) {
    throw new Error(`cannot import fastify-health (run \`npm run build\` first, or use \`npm run bench:instructions\`): ${error.message}`)
  }
  return valgrind
}

function chooseTargets () {
  const chosen = chooseNamedTargets(config.only)
  // A server file that is missing (a target removed, a partial checkout): skip it, say so.
  for (const target of chosen) {
    if (!existsSync(path.join(serversDir, target.file))) skipped.set(target.name, `no bench/servers/${target.file}`)
  }
  return chosen
}

async function main () {
  const valgrind = await preconditions()
  const targets = chooseTargets()
  const runnable = targets.filter((t) => !skipped.has(t.name))
  // Process-major order: every target's first process before any second one, so an early stop
  // still leaves one figure for each target.
  const jobs = []
  for (let index = 0; index < config.processes; index++) {
    for (const target of runnable) jobs.push({ target, index })
  }
  const perProcess = ESTIMATE_STARTUP_S + (config.warmup + config.batches * config.requests) / ESTIMATE_REQ_PER_S
  const estimate = Math.ceil(jobs.length / config.parallel) * perProcess
  console.log(`fastify-health instructions bench: ${runnable.length} targets x ${config.processes} process(es) under callgrind, ` +
    `${config.parallel} at a time; per process ${config.warmup} warm-up requests + ${config.batches} x ${config.requests} measured ` +
    `(${config.connections} connections); about ${minutes(estimate)}`)
  for (const [name, reason] of skipped) console.log(`  ${name.padEnd(20)} skipped: ${reason}`)

  const started = new Date()
  await runJobs(jobs)

  const summary = summarize(targets)
  let commit = null
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim() } catch { /* not a git tree */ }
  const report = {
    meta: {
      started: started.toISOString(),
      finished: new Date().toISOString(),
      node: process.version,
      valgrind,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      commit,
      versions: Object.fromEntries(['fastify', 'autocannon', '@fastify/under-pressure', 'fastify-healthcheck', '@godaddy/terminus', 'lightship']
        .map((name) => [name, versionOf(name)])),
      config
    },
    summary,
    checks: checksComparison(summary),
    skipped: [...skipped].map(([target, reason]) => ({ target, reason })),
    failures,
    processes
  }

  writeResults(config.out, report, markdown(report))
  const bad = Object.values(summary).some((row) => row.non2xx > 0 || row.errors > 0)
  if (failures.length > 0 || bad) process.exitCode = 1
}

await runMain(main, killAll)
