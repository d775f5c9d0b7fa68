// What the wall-clock benchmark (run.mjs) and the instruction count (instructions.mjs) share:
// the targets, settings read from the environment, the children they start, small numerics.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const benchDir = path.dirname(fileURLToPath(import.meta.url))
export const rootDir = path.join(benchDir, '..')
export const serversDir = path.join(benchDir, 'servers')
export const resultsDir = path.join(benchDir, 'results')

/**
 * The targets, in their base order. `peer` marks the other libraries; `skipOn404` a route
 * that may not exist; `baselineOf` a baseline that serves another target's answer; `env` what
 * the server is started with; `onlyNamed` a target run only when BENCH_TARGETS names it. The
 * path comes from the server's ready line.
 */
export const TARGETS = [
  { name: 'baseline', file: 'baseline.mjs', label: 'bare Fastify route + response schema (baseline)' },
  { name: 'node-http', file: 'node-http.mjs', label: 'node:http, constant buffer (ceiling)' },
  { name: 'health', file: 'health.mjs', label: 'fastify-health /health, state only' },
  // The same without the Cache-Control header, which the baseline does not send either.
  { name: 'health-no-cache-header', file: 'health-no-cache-header.mjs', label: 'fastify-health /health, state only, cacheControl: false' },
  { name: 'health-checks', file: 'health-checks.mjs', label: 'fastify-health /health, 10 cached checks + process' },
  // The checks target answers ~2 KB, the baseline 68 bytes: this baseline returns the checks
  // target's document, so that the two compare the plugin's work and not the answer's size.
  { name: 'baseline-checks', file: 'baseline-checks.mjs', label: 'bare Fastify route + response schema, the checks target\'s document', baselineOf: 'health-checks' },
  { name: 'health-ready', file: 'health-ready.mjs', label: 'fastify-health /health/ready', skipOn404: true },
  { name: 'under-pressure', file: 'under-pressure.mjs', label: '@fastify/under-pressure /status', peer: true },
  { name: 'fastify-healthcheck', file: 'fastify-healthcheck.mjs', label: 'fastify-healthcheck /health', peer: true },
  { name: 'terminus', file: 'terminus.mjs', label: '@godaddy/terminus /healthcheck', peer: true },
  { name: 'lightship', file: 'lightship.mjs', label: 'lightship /health', peer: true },
  // Run only when named in BENCH_TARGETS: the router's shape, and the probes on and off
  // (bench/probe-routes.mjs measures these in fresh processes).
  { name: 'health-no-probes', file: 'health-options.mjs', env: { BENCH_HEALTH_OPTIONS: '{"probes":false}' }, label: 'fastify-health /health, probes: false', onlyNamed: true },
  { name: 'bare-under', file: 'bare-routes.mjs', env: { BENCH_SIBLINGS: 'under' }, label: 'bare /health with three routes under /health/', onlyNamed: true },
  { name: 'bare-none', file: 'bare-routes.mjs', env: { BENCH_SIBLINGS: 'none' }, label: 'bare /health alone', onlyNamed: true },
  // A request's own cost against the number of checks, details hidden: no check is due during
  // the measurement (cacheFor of an hour), so only what a request does is counted, whatever the
  // tool's slowdown does to how many readings fall in it (bench:readings measures those).
  ...[0, 1000].map((count) => ({
    name: `checks-${count}-hidden`,
    file: 'health-scale.mjs',
    env: { BENCH_CHECKS: String(count), BENCH_CACHE_FOR: '3600000' },
    label: `fastify-health /health, ${count} checks cached, details hidden`,
    onlyNamed: true
  }))
]

/**
 * The targets named in BENCH_TARGETS (all when unset), with the baselines their ratios need:
 * the baseline always, a target's own baseline whenever the target runs.
 */
export function chooseTargets (only) {
  const unknown = (only ?? []).filter((name) => !TARGETS.some((t) => t.name === name))
  if (unknown.length > 0) throw new Error(`BENCH_TARGETS: unknown target(s) ${unknown.join(', ')}`)
  return TARGETS.filter((t) => (only === null && t.onlyNamed !== true) || t.name === 'baseline' || only?.includes(t.name) === true ||
    (t.baselineOf !== undefined && only?.includes(t.baselineOf) === true))
}

export function numberFromEnv (name, fallback, { min = 0, integer = false } = {}) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} >= ${min}`)
  }
  return value
}

export function listFromEnv (name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  return raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

export class ServerFailed extends Error {}

/** Resolves with the first JSON line carrying `ready` on the child's stdout. */
export function readyLine (child, file, timeoutMs, stderrTail) {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let settled = false
    const settle = (fn, value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn(value)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      settle(reject, new ServerFailed(`${file}: no ready line within ${timeoutMs / 1000} s\n${stderrTail()}`))
    }, timeoutMs)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      if (settled) return
      stdout += chunk
      for (const line of stdout.split('\n').slice(0, -1)) {
        let info
        try { info = JSON.parse(line) } catch { continue }
        if (info !== null && typeof info === 'object' && 'ready' in info) return settle(resolve, info)
      }
    })
    child.on('error', (error) => settle(reject, new ServerFailed(`${file}: ${error.message}`)))
    child.on('exit', (code, signal) => {
      settle(reject, new ServerFailed(`${file} exited (${signal ?? code}) before its ready line\n${stderrTail()}`))
    })
  })
}

/**
 * Every server process started, killed at exit or on a signal whatever happens: a bench
 * must not leave servers behind. Returns the set to add children to.
 */
export function trackChildren (what) {
  const children = new Set()
  const killAll = () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    children.clear()
  }
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping every ${what}`)
      killAll()
      process.exit(130)
    })
  }
  return { children, killAll }
}

/**
 * Runs `command args` in a fresh process, tracked in `children` (see trackChildren), with `env`
 * over this process's environment; resolves with the JSON of the last line it printed. `label`
 * names it in errors.
 */
export function jsonChild (children, label, command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: rootDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    children.add(child)
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      children.delete(child)
      if (code !== 0) return reject(new Error(`${label}: the child exited (${signal ?? code})`))
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)))
      } catch {
        reject(new Error(`${label}: no result line in ${JSON.stringify(stdout.slice(-500))}`))
      }
    })
  })
}

/**
 * Runs this bench's own file again in fresh Node.js processes, each pinned to CPU `cpu` with
 * taskset when it can be (`none`, or no taskset: not pinned). `run(label, nodeArgs, env)` resolves
 * with the JSON of the child's last line (see jsonChild).
 */
export function pinnedNode (children, cpu) {
  let pinned = cpu !== 'none'
  try { if (pinned) execFileSync('taskset', ['-c', cpu, 'true']) } catch { pinned = false }
  const run = (label, nodeArgs, env) => pinned
    ? jsonChild(children, label, 'taskset', ['-c', cpu, process.execPath, ...nodeArgs], env)
    : jsonChild(children, label, process.execPath, nodeArgs, env)
  return { pinned, run }
}

export function fmt (value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits)
}

export function median (values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The installed version of a package, or null. */
export function versionOf (name) {
  try {
    return JSON.parse(readFileSync(path.join(rootDir, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch { return null }
}

/** Writes bench/results/<name>.json and .md, and prints the markdown. */
export function writeResults (name, report, md) {
  mkdirSync(resultsDir, { recursive: true })
  const jsonFile = path.join(resultsDir, `${name}.json`)
  const mdFile = path.join(resultsDir, `${name}.md`)
  writeFileSync(jsonFile, JSON.stringify(report, null, 2) + '\n')
  writeFileSync(mdFile, md)
  console.log('\n' + md)
  console.log(`written: ${path.relative(process.cwd(), jsonFile)}, ${path.relative(process.cwd(), mdFile)}`)
}

/** Runs a bench's main function: an error is printed and fails the run; servers never outlive it. */
/** Runs `fn` with a fresh temporary directory, removed after whatever happens. */
export async function withScratchDir (prefix, fn) {
  const scratch = mkdtempSync(path.join(tmpdir(), prefix))
  try {
    return await fn(scratch)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

export async function runMain (main, killAll) {
  try {
    await main()
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    killAll()
  }
}
