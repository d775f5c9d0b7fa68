// What the PostgreSQL and MariaDB tests share: spawning a server binary and stopping it for
// good, the environment of a child process, a crash probe (a plain script whose fate shows what
// an object does without the check's listener), a bounded load run, and the benchmark record.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, createWriteStream, readFileSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { processTree, signalTree } from './common.js'

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

export function spawnServer (command: string, args: string[], logFile: string, user?: { uid: number, gid: number }): ServerProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user })
  const log = createWriteStream(logFile, { flags: 'a' })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? String(code)))
  })
  return { child, exited }
}

/** Runs a command to its end; rejects with the end of its output when it fails. */
export async function runCommand (command: string, args: string[], user?: { uid: number, gid: number }): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)
}

/** Sends `signal`, waits for the exit, and kills the whole tree when it takes over `grace` ms. */
export async function stopServer (server: ServerProcess, signal: NodeJS.Signals, grace = 10_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const pid = server.child.pid as number
  // A stopped (frozen) server cannot act on the signal: let it run first.
  await signalTree(pid, 'SIGCONT')
  server.child.kill(signal)
  const late = await Promise.race([server.exited.then(() => false), sleep(grace).then(() => true)])
  if (late) {
    for (const each of await processTree(pid)) {
      try { process.kill(each, 'SIGKILL') } catch {}
    }
    await server.exited
  }
}

/** The environment of a child process, without what tap puts there for its own test processes. */
export function childEnv (extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|_TAPJS)/.test(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
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
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
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

/** `seconds` of load with `connections` connections on `url` (bounded by autocannon's duration). */
export async function load (url: string, seconds: number, connections = 50): Promise<LoadResult> {
  return await autocannon({ url, connections, duration: seconds })
}

/**
 * The figure for the benchmark table, appended as one JSON line when FASTIFY_HEALTH_BENCH_OUT
 * names a file (appended: both kinds' files may run at once with the same variable).
 */
export async function recordBench (figure: { kind: string, seconds: number, cacheFor: number, requests: number, serverQueries: number }): Promise<void> {
  const out = process.env.FASTIFY_HEALTH_BENCH_OUT
  if (out !== undefined && out !== '') await appendFile(out, JSON.stringify(figure) + '\n')
}
