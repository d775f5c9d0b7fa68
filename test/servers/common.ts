// What the real-server tests share: free loopback ports, scratch folders, waiting for a server,
// and freezing one (SIGSTOP to every process it runs, so that its connections hang).
import { readdirSync, readlinkSync } from 'node:fs'
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

/** A new empty folder under the system's temporary folder, and how to remove it. */
export async function scratchDir (prefix: string): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `fastify-health-${prefix}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
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

/** Sends `signal` to the server process and every process below it. */
export async function signalTree (pid: number, signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
  for (const each of await processTree(pid)) {
    try {
      process.kill(each, signal)
    } catch {
      // Gone already.
    }
  }
}

/**
 * The threads of the tree that are neither stopped (state T in /proc) nor ended, as
 * `pid/tid:state`: a backend that exited stays a zombie (Z) until its parent, stopped too, reaps it.
 */
async function runningThreads (pid: number): Promise<string[]> {
  const running: string[] = []
  for (const each of await processTree(pid)) {
    for (const task of await readdir(`/proc/${each}/task`).catch(() => [] as string[])) {
      // A thread that ended meanwhile reads as stopped.
      const stat = await readFile(`/proc/${each}/task/${task}/stat`, 'utf8').catch(() => ') T')
      // The state follows the command name, which may hold spaces and parentheses.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (!/^[TtZX]/.test(state)) running.push(`${each}/${task}:${state}`)
    }
  }
  return running
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
export const thaw = (pid: number): Promise<void> => signalTree(pid, 'SIGCONT')

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
