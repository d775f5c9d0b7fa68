// No test server outlives its test process: a child tap run starts Redis, PostgreSQL (frozen,
// with a backend) and RabbitMQ with its epmd in a file that then hangs, and the file's process is
// killed (SIGKILL, where no teardown runs). Every process it started goes with it (the
// parent-death signal, the process-group watcher), and the next test process's start-up clears its
// folders, leaving the folders of running test processes, and folders that name no owner, alone.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { test } from 'tap'
import { childEnv } from './helpers.js'
import { clearLeftovers, OWNER, processTree, scratchDir, waitFor } from './servers/common.js'

// A child tap run starting three real servers: a minute or more on a loaded machine.
t.setTimeout(300_000)

const root = join(import.meta.dirname, '..')
const fixtures = join(import.meta.dirname, 'fixtures', 'leftovers')
const tap = join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs')

/** A process named for good: its pid and its start time (a pid may be reused). */
interface Named { pid: number, started: string, command: string }

function named (pid: number): Named | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
    return { pid, started: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string, command }
  } catch {
    return undefined
  }
}

/** Whether the process is still there (a zombie counts as gone: it runs nothing, holds no port). */
function running (each: Named): boolean {
  try {
    const stat = readFileSync(`/proc/${each.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] === each.started && fields[0] !== 'Z' && fields[0] !== 'X'
  } catch {
    return false
  }
}

/** The scratch folders of the test process `owner` names. */
const foldersOf = (owner: string): string[] => readdirSync(tmpdir()).filter((name) => name.includes(`-o${owner}-`))

test('a test file killed mid-run leaves no server process, and its folders are cleared at the next start-up', async (t) => {
  const mine = await scratchDir('leftovers')
  t.teardown(mine.remove)
  const report = join(mine.path, 'report.json')
  const run = spawn(process.execPath, [tap, '--reporter=tap', 'servers.ts'], {
    cwd: fixtures, env: childEnv({ LEFTOVERS_REPORT: report }), stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  run.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  run.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const ended = new Promise<number | null>((resolve) => run.once('close', resolve))
  const killed: { fixture?: number } = {}
  t.teardown(() => {
    // Should this test fail half-way: the killed runner would leave its test process running.
    for (const pid of [killed.fixture, run.pid]) {
      try { if (pid !== undefined) process.kill(pid, 'SIGKILL') } catch {}
    }
  })

  await waitFor('the child run to start its servers', async () => {
    if (run.exitCode !== null) throw new Error(`the child tap run ended early:\n${output}`)
    return existsSync(report)
  }, 180_000, 100)
  const started = JSON.parse(readFileSync(report, 'utf8')) as { pid: number, owner: string, servers: Record<string, number> }
  killed.fixture = started.pid
  const tree = (await processTree(started.pid)).filter((pid) => pid !== started.pid).map(named).filter((each) => each !== undefined)
  for (const [kind, pid] of Object.entries(started.servers)) t.ok(tree.some((each) => each.pid === pid), `${kind} runs below the test process`)
  t.ok(tree.some((each) => /epmd/.test(each.command)), 'with its epmd')
  t.ok(tree.some((each) => /beam/.test(each.command)), 'and the Erlang VM below rabbitmq-server\'s shell script')
  t.ok(tree.filter((each) => /^postgres: /.test(each.command)).length >= 2, 'PostgreSQL runs its own processes (frozen with it)')
  t.not(foldersOf(started.owner).length, 0, 'the servers have their folders')

  process.kill(started.pid, 'SIGKILL')
  t.not(await ended, 0, 'the child run reports the killed file as failed')
  await waitFor('every process the killed file started to end', () => tree.every((each) => !running(each)), 20_000, 50)
    .catch((error: Error) => t.fail(error.message))
  t.same(tree.filter(running).map((each) => `${each.pid} ${each.command}`), [], 'no process of it is left: no server, no backend, no epmd, no watcher')

  // A folder that only starts like ours, untouched for a day: CI keeps its Node.js lines in one
  // such, and a run once cleared it under the tests that ran from it.
  const notOurs = join(tmpdir(), `fastify-health-cache-${process.pid}`)
  mkdirSync(join(notOurs, 'kept'), { recursive: true })
  t.teardown(() => { rmSync(notOurs, { recursive: true, force: true }) })
  const dayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000)
  utimesSync(notOurs, dayAgo, dayAgo)

  // What the next test process does first: its own folder stays, the dead one's go.
  await clearLeftovers()
  t.ok(existsSync(join(notOurs, 'kept')), 'a folder whose name names no owner stays, however old')
  t.same(foldersOf(started.owner), [], 'its folders are cleared at the next start-up')
  t.ok(existsSync(mine.path), 'the folder of a test process still running stays')
  t.same(foldersOf(OWNER), [mine.path.slice(tmpdir().length + 1)], 'and so does every folder of this one')
})
