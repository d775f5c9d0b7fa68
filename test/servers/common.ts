// What the real-server tests share: free loopback ports, scratch folders, waiting for a server,
// freezing one (SIGSTOP to every process it runs, so that its connections hang), and clearing
// what a test process killed earlier left behind (its folders, its servers' orphans).
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { CheckContext, CheckFunction, ComponentDetail, HealthResponse } from '../../lib/index.js'
import { draftErrors } from '../draft-validator.js'

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Whether an error (a server's exit, with its log) says that its port was taken meanwhile. */
export const addressInUse = (error: unknown): boolean => /address already in use|eaddrinuse|bind on tcp\/ip port/i.test(String((error as Error)?.message ?? error))

/**
 * Runs `start` (which picks its free ports itself) again when the ports it picked were taken
 * before the server bound them: freePort() closes its port before the server opens it.
 */
export async function retryOnAddressInUse<T> (start: () => Promise<T>, attempts = 3, retryIf = addressInUse): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (error) {
      if (attempt >= attempts || !retryIf(error)) throw error
    }
  }
}

/** The TCP ports `pid` listens on (Linux: its sockets' inodes in /proc/net/tcp and tcp6). */
export async function listeningPorts (pid: number): Promise<number[]> {
  const inodes = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`)
      if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1))
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const cells = row.trim().split(/\s+/)
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the 10th cell.
      if (cells[3] === '0A' && inodes.has(cells[9] ?? '')) ports.add(parseInt((cells[1] ?? '').split(':')[1] ?? '', 16))
    }
  }
  return [...ports]
}

// ---- Owners: every scratch folder and server is marked with the test process that made it. ----

/** A process's start time (clock ticks since boot): with its pid, it names one process for good. */
function startTime (pid: number | string): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses: the fields after it follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** This test process, as `pid.starttime`: written into folder names and servers' environment. */
export const OWNER = `${process.pid}.${startTime('self') ?? '0'}`

/** The environment variable that marks a server process (and what it forks) with its owner. */
export const OWNER_VARIABLE = 'FASTIFY_HEALTH_TEST_OWNER'

/** Whether the process an owner mark names is still running (the same process, not a reused pid). */
export function ownerAlive (owner: string): boolean {
  const [pid, started] = owner.split('.')
  return startTime(pid as string) === started
}

const SCRATCH_PREFIX = 'fastify-health-'
/** `fastify-health-<what>-o<pid>.<starttime>-`: a scratch folder's name up to mkdtemp's suffix. */
const OWNED = `${SCRATCH_PREFIX}[\\w.-]+-o(\\d+\\.\\d+)-`
/**
 * A scratch folder's name: the owner is in it from the start. Only folders of this shape are ever
 * cleared: another folder that merely starts with the prefix (a cache, CI's Node.js lines, a bench
 * run) is not ours to judge by its age.
 */
const OWNED_NAME = new RegExp(`^${OWNED}[^-]+$`)

interface ProcessInfo { ppid: number, cmdline: string, environ: string, cwd: string }

/** A process's parent, command line, and (for an orphan) environment and working folder. */
function processInfo (pid: string): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    if (ppid !== 1) return { ppid, cmdline, environ: '', cwd: '' }
    // PostgreSQL writes its process titles over its environment, and Redis over its command line.
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
    let cwd = ''
    try { cwd = readlinkSync(`/proc/${pid}/cwd`) } catch {}
    return { ppid, cmdline, environ, cwd }
  } catch {
    return undefined
  }
}

/** A scratch folder's path, wherever it appears in a command line or a working folder. */
const OWNED_PATH = new RegExp(`/${OWNED}`, 'g')

/**
 * Whether an orphan (its parent gone, so its test process gone) is a test server's: marked with
 * a dead owner, run in or on a scratch folder of a dead owner, a PostgreSQL backend whose
 * postmaster is gone, or an epmd in the foreground on the loopback address (as rabbitmq.ts runs
 * it). A folder's name alone is not enough: CI itself may run from a folder named like ours.
 */
function leftOverServer (info: ProcessInfo): boolean {
  if (info.ppid !== 1) return false
  const owner = new RegExp(`(?:^|\0)${OWNER_VARIABLE}=([\\d.]+)`).exec(info.environ)?.[1]
  if (owner !== undefined) return !ownerAlive(owner)
  const owners = [...`${info.cmdline}\n${info.cwd}`.matchAll(OWNED_PATH)].map((match) => match[1] as string)
  if (owners.length > 0) return owners.every((each) => !ownerAlive(each))
  return info.cmdline.startsWith('postgres: ') || /\/epmd -port \d+ -address 127\.0\.0\.1 $/.test(info.cmdline)
}

/**
 * Clears what test processes killed earlier left: their servers' orphans (SIGKILL reaches a
 * stopped process too) and their scratch folders. A folder or server of a test process that still
 * runs (another tap job) is left alone: its owner is alive, and its servers are not orphans.
 */
export async function clearLeftovers (): Promise<{ processes: number, folders: string[] }> {
  let processes = 0
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const info = processInfo(entry)
    if (info === undefined || !leftOverServer(info)) continue
    for (const each of await processTree(Number(entry))) {
      try {
        process.kill(each, 'SIGKILL')
        processes++
      } catch {
        // Gone already.
      }
    }
  }
  const folders: string[] = []
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const owner = OWNED_NAME.exec(name)?.[1]
    if (owner === undefined || ownerAlive(owner)) continue
    const path = join(tmpdir(), name)
    await rm(path, { recursive: true, force: true }).catch(() => {})
    folders.push(path)
  }
  return { processes, folders }
}

// Once per test process, before its first folder: a run killed earlier leaves no trace for long.
let cleared: Promise<unknown> | undefined

/** A new empty folder under the system's temporary folder, named with its owner, and how to remove it. */
export async function scratchDir (prefix: string): Promise<{ path: string, remove: () => Promise<void> }> {
  cleared ??= clearLeftovers().catch(() => {})
  await cleared
  const what = prefix.replace(/^fastify-health-/, '').replace(/-+$/, '')
  const path = await mkdtemp(join(tmpdir(), `${SCRATCH_PREFIX}${what}-o${OWNER}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** What startSideBySide() resolves with: each server, in the order of its start. */
type Started<T extends ReadonlyArray<Promise<unknown>>> = { -readonly [K in keyof T]: Awaited<T[K]> }

/**
 * Servers a file needs, started side by side (each takes a few seconds). Each one that started
 * is stopped at the file's teardown, whichever of the others failed to start; all have settled
 * before a failure is thrown, so none is still starting when the teardown runs.
 */
export async function startSideBySide<T extends ReadonlyArray<Promise<{ stop: () => Promise<void> }>>> (t: Test, starts: T): Promise<Started<T>> {
  const settled = await Promise.allSettled(starts)
  t.teardown(async () => {
    await Promise.allSettled(settled.flatMap((result) => result.status === 'fulfilled' ? [result.value.stop()] : []))
  })
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as Started<T>
}

/** Polls `probe` until it resolves truthy; rejects with `what` after `timeout` ms. Bounded. */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeout = 30_000, every = 50): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    await sleep(every)
  }
  throw new Error(`Timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`)
}

/** `pid` and every process below it (children that called setsid() included). */
export async function processTree (pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      // The command name may hold spaces and parentheses: the parent pid follows the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while the table was read.
    }
  }
  const tree: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const next = queue.shift() as number
    tree.push(next)
    queue.push(...(parents.get(next) ?? []))
  }
  return tree
}

/**
 * A watcher (a shell, a child of this process) that sends SIGKILL to `targets` (pids, or -pgid for
 * a process group) when its stdin ends, that is when this test process is gone, however it went;
 * end() lets it go without a kill. Neither it nor its pipe keep this process alive.
 */
export function killWhenGone (targets: number[]): { end: () => void } {
  const watcher = spawn('/bin/sh', ['-c', 'read _ || kill -KILL "$@" 2>/dev/null', 'fastify-health-watcher', ...targets.map(String)], {
    stdio: ['pipe', 'ignore', 'ignore']
  })
  watcher.on('error', () => {})
  watcher.stdin.on('error', () => {})
  watcher.unref()
  ;(watcher.stdin as unknown as { unref: () => void }).unref()
  return { end: () => { watcher.kill('SIGKILL') } }
}

/**
 * The processes freeze() stopped, by server pid, each set with its watcher: a stopped process
 * never notices that its parent died (a PostgreSQL backend whose postmaster got the parent-death
 * signal, in a session of its own), so the watcher kills them should this process die first.
 */
const frozen = new Map<number, { end: () => void }>()

/** Sends `signal` to the server process and every process below it; resolves with their pids. */
export async function signalTree (pid: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): Promise<number[]> {
  const tree = await processTree(pid)
  for (const each of tree) {
    try {
      process.kill(each, signal)
    } catch {
      // Gone already.
    }
  }
  frozen.get(pid)?.end()
  frozen.delete(pid)
  if (signal === 'SIGSTOP') frozen.set(pid, killWhenGone(tree))
  return tree
}

/** The threads of the processes in `pids`, as `pid/tid:state` (the state letter of /proc); a process gone has none. */
async function threadStates (pids: number[]): Promise<string[]> {
  const states: string[] = []
  for (const each of pids) {
    for (const task of await readdir(`/proc/${each}/task`).catch(() => [] as string[])) {
      // A thread that ended meanwhile reads as dead (X).
      const stat = await readFile(`/proc/${each}/task/${task}/stat`, 'utf8').catch(() => ') X')
      // The state follows the command name, which may hold spaces and parentheses.
      states.push(`${each}/${task}:${stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)}`)
    }
  }
  return states
}

/**
 * The threads of the tree that are neither stopped (T) nor ended (Z, X): a backend that exited
 * stays a zombie until its parent, stopped too, reaps it.
 */
async function runningThreads (pid: number): Promise<string[]> {
  return (await threadStates(await processTree(pid))).filter((each) => !/:[TtZX]$/.test(each))
}

/**
 * SIGKILL to a process and every process below it, as a crash would; resolves once every thread
 * of each has ended. A killed process closes its sockets only as its last thread exits, and a
 * thread in a system call that cannot be interrupted (a write to a busy disk) exits only when
 * the call returns: until then the server's clients see one that hangs, not one that went away.
 */
export async function killTree (pid: number): Promise<void> {
  const tree = await signalTree(pid, 'SIGKILL')
  await waitFor('the killed processes to end', async () => {
    const left = (await threadStates(tree)).filter((each) => !/:[ZX]$/.test(each))
    // Thrown, so that a timeout says which ones did not end.
    if (left.length > 0) throw new Error(`still running: ${left.join(', ')}`)
    return true
  }, 30_000, 10)
}

/**
 * Freezes a server: every connection to it hangs until thaw() is called. Resolves once every
 * thread of every process has stopped: SIGSTOP reaches each on its own time, and a query sent
 * in between would still be answered.
 */
export async function freeze (pid: number): Promise<void> {
  try {
    // Sent again until all have stopped: a process the server forks meanwhile (a backend for a
    // connection, an autovacuum worker) was not in the tree the first signal went to.
    await waitFor('the server to stop', async () => {
      await signalTree(pid, 'SIGSTOP')
      const running = await runningThreads(pid)
      // Thrown, so that a timeout says which ones did not stop.
      if (running.length > 0) throw new Error(`still running: ${running.join(', ')}`)
      return true
    }, 5000, 10)
  } catch (error) {
    // Never a server left half frozen: its clients' teardown would hang on it.
    await thaw(pid)
    throw error
  }
}
export const thaw = async (pid: number): Promise<void> => { await signalTree(pid, 'SIGCONT') }

/** The sockets this process holds open, by inode (Linux): a check run must leave none behind. */
export const openSockets = (): Set<string> => new Set(readdirSync('/proc/self/fd').map((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return ''
  }
}).filter((link) => link.startsWith('socket:')))

/** The sockets open now that were not in `before`. */
export const newSockets = (before: Set<string>): string[] => [...openSockets()].filter((socket) => !before.has(socket))

/** The timers this process has running. */
export const activeTimers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

/** A check's context outside the plugin: a silent logger. */
export const checkContext: CheckContext = { log: Fastify().log }

/** One run of a ready-made check outside the plugin; it reads one detail. */
export const runCheck = async (check: CheckFunction, signal = new AbortController().signal): Promise<ComponentDetail> =>
  await check(signal, checkContext) as ComponentDetail

/**
 * A hanging check through the plugin (registered with a 300 ms timeout): the answer comes
 * within the timeout plus a second, valid by the draft, 503, the entry saying it timed out.
 */
export async function expectTimeoutThroughPlugin (t: Test, app: FastifyInstance, name: string, check: CheckFunction): Promise<void> {
  app.health.addCheck(name, check, { timeout: 300 })
  const started = performance.now()
  const res = await app.inject('/health')
  t.ok(performance.now() - started < 300 + 1000, 'answered within the timeout + 1 s')
  const body = res.json() as HealthResponse
  t.same(draftErrors(body), [])
  t.equal(res.statusCode, 503)
  t.match(body.checks?.[name], [{ status: 'fail', output: 'Timed out after 300 ms' }])
}
