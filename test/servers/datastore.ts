// What the PostgreSQL and MariaDB tests share: spawning a server binary and stopping it for
// good, the environment of a child process, a crash probe (a plain script whose fate shows what
// an object does without the check's listener), a bounded load run, the benchmark record, and
// the health app whose answers they check.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, createWriteStream, readFileSync } from 'node:fs'
import { appendFile, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import fastifyHealth, { type CheckDefinition, type ComponentDetail, type HealthResponse, State } from '../../lib/index.js'
import { draftErrors } from '../draft-validator.js'
import { childEnv, request, STACK_FRAME } from '../helpers.js'
import { killTree, killWhenGone, OWNER, OWNER_VARIABLE, signalTree } from './common.js'

/** Throws, with what to install, when a server binary is missing: these tests never skip. */
export function requireBinary (path: string, install: string): string {
  try {
    accessSync(path, constants.X_OK)
  } catch {
    throw new Error(`${path} is missing: this test needs a real server (Debian: apt-get install -y ${install})`)
  }
  return path
}

/** uid and gid of a system user, from /etc/passwd. */
export function systemUser (name: string): { uid: number, gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((each) => each.startsWith(`${name}:`))
  if (line === undefined) throw new Error(`There is no "${name}" user on this machine (it comes with the server's Debian package)`)
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** A server process whose output goes to `logFile`. */
export interface ServerProcess {
  child: ChildProcess
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>
}

const SETPRIV = '/usr/bin/setpriv'

/**
 * argv that runs `command` with the parent-death signal set (setpriv, util-linux): the kernel
 * kills it (SIGKILL, which also ends a stopped one) when the process that spawned it dies, however
 * it dies. Spawned from the main thread: the signal follows the thread that forked it.
 */
const dyingWithParent = (command: string, args: string[]): [string, string[]] =>
  [requireBinary(SETPRIV, 'util-linux'), ['--pdeathsig', 'KILL', '--', command, ...args]]

/** The environment of a server: `env` (this process's by default), marked with its owner. */
const ownedEnv = (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...env, [OWNER_VARIABLE]: OWNER })

/**
 * Starts a server process in a process group of its own (detached), with the parent-death
 * signal and a watcher of its group, so that nothing of it outlives this test process (freeze()
 * watches what it stops); when it exits, what is left of its group goes too.
 */
export function spawnServer (command: string, args: string[], logFile: string, user?: { uid: number, gid: number }, env?: NodeJS.ProcessEnv): ServerProcess {
  const [file, argv] = dyingWithParent(command, args)
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: ownedEnv(env), ...user })
  // Its own children are not in the parent-death signal's reach: RabbitMQ's Erlang VM runs below
  // its shell script. The group goes when this process does.
  const watcher = child.pid === undefined ? undefined : killWhenGone([-child.pid])
  const log = createWriteStream(logFile, { flags: 'a' })
  // Both outputs write into one log, ended once both have closed: a pipe would end it with the
  // first to end, and the other's last lines (a killed server's) would be written after its end,
  // an ERR_STREAM_WRITE_AFTER_END that no listener hears.
  child.stdout?.pipe(log, { end: false })
  child.stderr?.pipe(log, { end: false })
  child.once('close', () => { log.end() })
  const exited = new Promise<string>((resolve) => {
    const ended = (why: string): void => {
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL') } catch {}
      }
      watcher?.end()
      resolve(why)
    }
    child.once('exit', (code, signal) => ended(signal ?? String(code)))
    child.once('error', (error) => ended(error.message))
  })
  return { child, exited }
}

/** The last lines of a server's log, for an error that says why it did not start. */
export async function logTail (logFile: string, chars = 1500): Promise<string> {
  return (await readFile(logFile, 'utf8').catch(() => '')).slice(-chars)
}

/** Runs a command to its end (dying with this process); rejects with the end of its output when it fails. */
export async function runCommand (command: string, args: string[], user?: { uid: number, gid: number }): Promise<void> {
  const [file, argv] = dyingWithParent(command, args)
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: ownedEnv(), ...user })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)
}

/**
 * For teardowns after a failure: thaws the server, and starts it again when it does not answer
 * (`answers` rejects).
 */
export async function revive (server: ServerProcess | undefined, answers: () => Promise<unknown>, restart: () => Promise<void>): Promise<void> {
  if (server !== undefined) await signalTree(server.child.pid as number, 'SIGCONT')
  try {
    await answers()
  } catch {
    await restart()
  }
}

/** Sends `signal`, waits for the exit, and kills the whole tree when it takes over `grace` ms. */
export async function stopServer (server: ServerProcess, signal: NodeJS.Signals, grace = 10_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const pid = server.child.pid as number
  // A stopped (frozen) server cannot act on the signal: let it run first.
  await signalTree(pid, 'SIGCONT')
  server.child.kill(signal)
  const timer = new AbortController()
  const late = await Promise.race([
    server.exited.then(() => false),
    sleep(grace, true, { signal: timer.signal }).catch(() => false)
  ])
  timer.abort()
  if (late) {
    await killTree(pid)
    await server.exited
  }
}

/** A plain ES module script run by node, reporting on stdout; `done` tells how it ended. */
export interface CrashProbe {
  /** Resolves with the first stdout line equal to `line`. */
  said: (line: string) => Promise<void>
  done: Promise<{ code: number | null, stdout: string, stderr: string }>
  kill: () => void
}

export function crashProbe (script: string, env: Record<string, string>, cwd: string): CrashProbe {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiting: Array<{ line: string, resolve: () => void }> = []
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const each of waiting.splice(0)) {
      if (stdout.split('\n').includes(each.line)) each.resolve()
      else waiting.push(each)
    }
  })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const done = new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    // 'close', not 'exit': the output may still be on its way when the process exits.
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
  const said = (line: string): Promise<void> => new Promise((resolve, reject) => {
    if (stdout.split('\n').includes(line)) return resolve()
    waiting.push({ line, resolve })
    done.then(({ code }) => reject(new Error(`the probe exited (${code}) before saying "${line}": ${stderr.slice(-1000)}`)), reject)
  })
  return { said, done, kill: () => { child.kill('SIGKILL') } }
}

interface LoadResult { requests: { total: number }, non2xx: number, errors: number, timeouts: number }
type Autocannon = (options: { url: string, connections: number, duration: number }) => Promise<LoadResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/** The benchmark run (`npm run bench:datastores`) names the file its figures go to. */
export const benchmarking = (): boolean => (process.env.FASTIFY_HEALTH_BENCH_OUT ?? '') !== ''

/**
 * How long a load runs: 10 s for the benchmark table, 2 s in the tests (enough for the bounds
 * they assert, and the suite runs on several Node.js lines).
 */
export const loadSeconds = (): number => benchmarking() ? 10 : 2

/**
 * `seconds` of load with `connections` connections on `url` (bounded by autocannon's duration);
 * outside the benchmark, never longer than loadSeconds(). The result says how long it ran.
 */
export async function load (url: string, seconds: number, connections = 50): Promise<LoadResult & { seconds: number }> {
  const duration = benchmarking() ? seconds : Math.min(seconds, loadSeconds())
  return { ...await autocannon({ url, connections, duration }), seconds: duration }
}

/**
 * The figure for the benchmark table, appended as one JSON line when FASTIFY_HEALTH_BENCH_OUT
 * names a file (appended: both kinds' files may run at once with the same variable).
 */
export async function recordBench (figure: { kind: string, seconds: number, cacheFor: number, requests: number, serverQueries: number }): Promise<void> {
  const out = process.env.FASTIFY_HEALTH_BENCH_OUT
  if (out !== undefined && out !== '') await appendFile(out, JSON.stringify(figure) + '\n')
}

// ---- The health app both kinds' tests drive, and what they assert on its answers. ----

/** What a connection-check log line says: once per outage. */
export const OUTAGE_LOGGED = /connection error \(not logged again until the check passes\)/

/** A throwaway SQL server a test started (PostgreSQL or MariaDB). */
export interface SqlServer {
  /** The server's main pid (it changes with start()). */
  readonly pid: number
  readonly port: number
  readonly user: string
  readonly password: string
  /** What the client libraries take: host 127.0.0.1, the port, database, user and password. */
  readonly config: { host: string, port: number, database: string, user: string, password: string }
  readonly connectionString: string
  /** Stops the server (sessions are ended at once) and keeps its data. */
  halt: () => Promise<void>
  /** Starts it again on the same port. */
  start: () => Promise<void>
  /** Thaws it, and starts it again when it does not answer: for teardowns after a failure. */
  revive: () => Promise<void>
  /** Health queries run so far, counted by the server itself. */
  healthQueries: () => Promise<number>
  /** Sessions of the health user, as the server lists them. */
  sessions: () => Promise<number>
  /** Stops the server for good and removes its folder. */
  stop: () => Promise<void>
}

export interface Answer {
  statusCode: number
  body: HealthResponse
  text: string
  /** How long the answer took, in ms. */
  ms: number
}

export interface HealthProbe {
  /** GET over inject. */
  inject: (path?: string) => Promise<Answer>
  /** GET over real HTTP (the app listens on 127.0.0.1, port 0). */
  http: (path?: string) => Promise<Answer>
  base: string
}

/**
 * Registers fastify-health (state Working) with `checks` on `app`, listens, and returns GETs
 * that assert every answer is valid by the draft and holds no stack frame. Closed at teardown.
 */
export async function serveHealth (t: Test, app: FastifyInstance, checks: Record<string, CheckDefinition>): Promise<HealthProbe> {
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, checks })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const checked = (path: string, statusCode: number, text: string, started: number): Answer => {
    const body = JSON.parse(text) as HealthResponse
    t.strictSame(draftErrors(body), [], `${path}: valid by the draft`)
    t.notMatch(text, STACK_FRAME, `${path}: no stack frame`)
    return { statusCode, body, text, ms: performance.now() - started }
  }
  return {
    base,
    inject: async (path = '/health') => {
      const started = performance.now()
      const res = await app.inject(path)
      return checked(path, res.statusCode, res.body, started)
    },
    http: async (path = '/health') => {
      const started = performance.now()
      const res = await request(base + path)
      return checked(path, res.statusCode, res.text, started)
    }
  }
}

/** The one detail of check `name` in an answer. */
export function detail (answer: Answer, name: string): ComponentDetail {
  const entries = answer.body.checks?.[name]
  if (entries?.length !== 1) throw new Error(`expected one detail for ${name}, got ${JSON.stringify(answer.body.checks)}`)
  return entries[0] as ComponentDetail
}

/** A passing reading of a datastore check: the round trip in ms, and where it went. */
export function assertPass (t: Test, answer: Answer, name: string, componentId: string): void {
  const got = detail(answer, name)
  t.match(got, { componentType: 'datastore', componentId, observedUnit: 'ms', status: 'pass' }, `${name}: pass`)
  t.ok(typeof got.observedValue === 'number' && got.observedValue >= 0 && got.observedValue < 60_000, `${name}: a plausible round trip (${String(got.observedValue)} ms)`)
  t.equal(got.output, undefined, `${name}: no output on pass`)
}

/** A failing reading: status fail, the componentId kept, a one-line output; returns the output. */
export function assertFail (t: Test, answer: Answer, name: string, componentId: string): string {
  const got = detail(answer, name)
  t.match(got, { componentType: 'datastore', componentId, status: 'fail', output: String }, `${name}: fail`)
  const output = String(got.output)
  t.notMatch(output, /\n/, `${name}: the output is one line`)
  return output
}

/** Asserts that none of `secrets` shows up in `text`. */
export function assertNoSecrets (t: Test, text: string, secrets: Record<string, string>, where: string): void {
  for (const [what, secret] of Object.entries(secrets)) t.notOk(text.includes(secret), `${where}: no ${what}`)
}
