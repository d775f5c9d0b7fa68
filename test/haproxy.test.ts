// Integration test with a real load balancer: HAProxy health-checks two instances of
// a demo service on /health/ready while a bounded load runs through it, and one instance after
// the other is drained with shutdown() (SIGTERM) and restarted. With a drain delay no client
// request fails; with shutdownDelay: 0 requests are lost, which shows that the test can fail.
// Needs the haproxy binary (Debian: apt-get install -y haproxy) and the built package (dist).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import { childEnv } from './helpers.js'
import { scratchDir } from './servers/common.js'

const root = join(import.meta.dirname, '..')
const fixtures = join(import.meta.dirname, 'fixtures', 'haproxy')
const built = join(root, 'dist', 'esm', 'index.js')

/** `command -v haproxy`, or Debian's place for it when sbin is not on the PATH (non-root users). */
function findHaproxy (): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim()
    if (found !== '') return found
  } catch {}
  return ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((path) => existsSync(path))
}

// A missing HAProxy fails the test: `npm test` installs it (scripts/install-test-servers.sh).
const haproxy = findHaproxy()

/** Distinct free loopback ports, held together while they are picked. */
async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

async function waitFor (what: string, condition: () => Promise<boolean> | boolean, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`)
    await sleep(25)
  }
}

interface Proc {
  child: ChildProcess
  output: string[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Every process this file started that still runs. Each child exits when its stdin ends
 * (instance.mjs itself; HAProxy through guard.mjs), so that ending stdin stops it even
 * where a signal could not reach HAProxy, and a dying test process takes them all along.
 */
const running = new Set<Proc>()

/** Stops a process: stdin ended and SIGTERM, then SIGKILL if it is still there after `grace` ms. */
async function stop (proc: Proc, grace = 3000): Promise<void> {
  if (!running.has(proc)) return
  proc.child.stdin?.end()
  proc.child.kill('SIGTERM')
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), grace)
  await proc.exited
  clearTimeout(timer)
}

process.once('exit', () => {
  for (const proc of running) {
    proc.child.stdin?.destroy()
    proc.child.kill('SIGTERM')
  }
})

function start (command: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(command, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] })
  const output: string[] = []
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)))
  // A child that is gone must not fail the test through a write to its stdin.
  child.stdin?.on('error', () => {})
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(proc)
      child.stdin?.destroy()
      resolve({ code, signal })
    })
  })
  const proc: Proc = { child, output, exited }
  running.add(proc)
  return proc
}

const events = (proc: Proc): string[] => proc.output.flatMap((line) => {
  try {
    return [(JSON.parse(line) as { event: string }).event]
  } catch {
    return []
  }
})

interface Instance extends Proc {
  name: string
  pid: number
  /** Milliseconds from SIGTERM to exit, once drained. */
  drainedIn?: number
}

async function startInstance (name: string, port: number, shutdownDelay: number): Promise<Instance> {
  const proc = start(process.execPath, [join(fixtures, 'instance.mjs')], {
    PORT: String(port), NAME: name, SHUTDOWN_DELAY: String(shutdownDelay)
  })
  let exitedEarly = false
  proc.exited.then(() => { exitedEarly = true }, () => {})
  await waitFor(`instance ${name} to listen`, () => {
    if (exitedEarly) throw new Error(`instance ${name} exited:\n${proc.output.join('\n')}`)
    return events(proc).includes('listening')
  })
  return Object.assign(proc, { name, pid: proc.child.pid as number })
}

interface ServerStat {
  status: string
  checkStatus: string
  checkCode: string
}

/** The backend servers as HAProxy sees them, from its CSV statistics. */
async function serverStats (statsPort: number): Promise<Record<string, ServerStat>> {
  const res = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`, { signal: AbortSignal.timeout(2000) })
  const [header, ...rows] = (await res.text()).trim().split('\n')
  const columns = header.replace(/^# /, '').split(',')
  const column = (name: string): number => columns.indexOf(name)
  const stats: Record<string, ServerStat> = {}
  for (const row of rows) {
    const cells = row.split(',')
    if (cells[column('pxname')] !== 'demo' || ['FRONTEND', 'BACKEND'].includes(cells[column('svname')])) continue
    stats[cells[column('svname')]] = {
      status: cells[column('status')],
      checkStatus: cells[column('check_status')],
      checkCode: cells[column('check_code')]
    }
  }
  return stats
}

async function isUp (statsPort: number, server: string): Promise<boolean> {
  try {
    const stat = (await serverStats(statsPort))[server]
    // A check must have passed: HAProxy may show a server UP before checking it.
    return stat?.status === 'UP' && stat.checkStatus === 'L7OK'
  } catch {
    return false
  }
}

interface Outcome {
  ok: boolean
  /** HTTP code, or the error code of a request that got no answer. */
  result: number | string
  pid?: number
}

/** A bounded load: `clients` keep-alive clients, each sending one request after the other. */
function runLoad (url: string, clients: number): { stop: () => Promise<Outcome[]> } {
  const outcomes: Outcome[] = []
  const control = { stop: false }
  const client = async (): Promise<void> => {
    while (!control.stop) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
        const text = await res.text()
        const pid = res.status === 200 ? (JSON.parse(text) as { pid: number }).pid : undefined
        outcomes.push({ ok: res.status === 200, result: res.status, pid })
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause
        outcomes.push({ ok: false, result: cause?.code ?? (error as Error).name })
      }
    }
  }
  const loops = Array.from({ length: clients }, () => client())
  return {
    async stop () {
      control.stop = true
      await Promise.all(loops)
      return outcomes
    }
  }
}

interface Scenario {
  outcomes: Outcome[]
  /** The pids of the instances, first ones then restarted ones. */
  pids: number[]
  /** What HAProxy said about each drained instance while it was draining. */
  seenWhileDraining: Record<string, ServerStat[]>
  drained: Instance[]
}

/**
 * HAProxy before instances a and b, a load through it, then each instance in turn drained
 * (SIGTERM -> shutdown()) and restarted on its port once the other is in rotation.
 */
async function scenario (t: Test, shutdownDelay: number): Promise<Scenario> {
  const [frontendPort, statsPort, portA, portB] = await freePorts(4)
  // Named with this test process: a killed run's folder is cleared at the next start-up.
  const { path: dir } = await scratchDir('haproxy')
  const instances: Instance[] = []
  const proxies: Proc[] = []
  t.teardown(async () => {
    await Promise.all([...proxies, ...instances].map((proc) => stop(proc)))
    rmSync(dir, { recursive: true, force: true })
  })
  const fail = (message: string): Error =>
    new Error(`${message}\n--- haproxy:\n${proxies[0]?.output.join('\n')}\n--- instances:\n${instances.map((i) => i.output.join('\n')).join('\n')}`)

  const config = readFileSync(join(fixtures, 'haproxy.cfg.template'), 'utf8')
    .replaceAll('{{FRONTEND_PORT}}', String(frontendPort))
    .replaceAll('{{STATS_PORT}}', String(statsPort))
    .replaceAll('{{PORT_A}}', String(portA))
    .replaceAll('{{PORT_B}}', String(portB))
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, config)

  const ports: Record<string, number> = { a: portA, b: portB }
  const current: Record<string, Instance> = {}
  for (const name of ['a', 'b']) {
    current[name] = await startInstance(name, ports[name], shutdownDelay)
    instances.push(current[name])
  }
  // -db: stay in the foreground; guard.mjs kills HAProxy should this process die.
  proxies.push(start(process.execPath, [join(fixtures, 'guard.mjs'), haproxy as string, '-db', '-f', configPath], {}))
  try {
    await waitFor('HAProxy to see both instances up', async () => await isUp(statsPort, 'a') && await isUp(statsPort, 'b'))
  } catch (error) {
    throw fail((error as Error).message)
  }

  const load = runLoad(`http://127.0.0.1:${frontendPort}/work`, 4)
  const seenWhileDraining: Record<string, ServerStat[]> = { a: [], b: [] }
  const drained: Instance[] = []
  try {
    await sleep(300)
    for (const name of ['a', 'b']) {
      const instance = current[name]
      const termAt = Date.now()
      instance.child.kill('SIGTERM')
      // Watch HAProxy's view of the instance until its process is gone; one that has not exited
      // long after its delay is killed (and its exit code says so).
      const deadline = Date.now() + shutdownDelay + 2500
      while (running.has(instance)) {
        if (Date.now() > deadline) instance.child.kill('SIGKILL')
        const stat = await serverStats(statsPort).then((stats) => stats[name], () => undefined)
        if (stat !== undefined && running.has(instance)) seenWhileDraining[name].push(stat)
        await Promise.race([sleep(50), instance.exited])
      }
      instance.drainedIn = Date.now() - termAt
      drained.push(instance)
      current[name] = await startInstance(`${name}2`, ports[name], shutdownDelay)
      instances.push(current[name])
      await waitFor(`HAProxy to see the restarted ${name} up`, () => isUp(statsPort, name))
      await sleep(200)
    }
  } catch (error) {
    await load.stop()
    throw fail((error as Error).message)
  }
  const outcomes = await load.stop()
  return { outcomes, pids: instances.map((i) => i.pid), seenWhileDraining, drained }
}

async function describeDrains (t: Test, drained: Instance[]): Promise<void> {
  for (const instance of drained) {
    const { code, signal } = await instance.exited
    t.comment(`${instance.name}: exit ${code ?? signal} ${instance.drainedIn} ms after SIGTERM (${events(instance).join(', ')})`)
  }
}

function summary (outcomes: Outcome[]): string {
  const counts = new Map<string, number>()
  for (const { result } of outcomes) counts.set(String(result), (counts.get(String(result)) ?? 0) + 1)
  return [...counts].map(([result, count]) => `${result}: ${count}`).join(', ')
}

test('HAProxy: draining with shutdown() loses no request', async (t) => {
  if (haproxy === undefined) return t.fail('haproxy is not installed (Debian: apt-get install -y haproxy)')
  t.ok(existsSync(built), 'the package is built (run `npm run build` first)')
  if (!existsSync(built)) return
  const { outcomes, pids, seenWhileDraining, drained } = await scenario(t, 1000)
  t.comment(`shutdownDelay 1000: ${outcomes.length} requests (${summary(outcomes)})`)
  await describeDrains(t, drained)
  t.ok(outcomes.length >= 200, `a real load went through HAProxy (${outcomes.length} requests)`)
  t.same(outcomes.filter((o) => !o.ok), [], 'no client request failed: no 5xx, no connection error')
  for (const pid of pids) {
    t.ok(outcomes.some((o) => o.pid === pid), `instance pid ${pid} served requests (restarts went back into rotation)`)
  }
  for (const instance of drained) {
    t.same(events(instance), ['listening', 'draining', 'closed'], `${instance.name} drained, then closed`)
    t.equal((await instance.exited).code, 0, `${instance.name} exited 0`)
    // HAProxy took it out of rotation through its readiness probe, while it still served.
    t.ok(seenWhileDraining[instance.name].some((s) => s.status === 'DOWN' && s.checkCode === '503'),
      `HAProxy saw ${instance.name} DOWN on a 503 readiness answer while it drained`)
  }
})

test('HAProxy: with shutdownDelay 0 requests are lost', async (t) => {
  if (haproxy === undefined) return t.fail('haproxy is not installed (Debian: apt-get install -y haproxy)')
  t.ok(existsSync(built), 'the package is built (run `npm run build` first)')
  if (!existsSync(built)) return
  const { outcomes, drained } = await scenario(t, 0)
  const failed = outcomes.filter((o) => !o.ok)
  t.comment(`shutdownDelay 0: ${outcomes.length} requests (${summary(outcomes)})`)
  await describeDrains(t, drained)
  t.ok(outcomes.length >= 100, `a real load went through HAProxy (${outcomes.length} requests)`)
  t.ok(failed.length > 0, `client requests failed without a drain delay (${failed.length})`)
})
