// A throwaway RabbitMQ node for the tests, apart from any other on the machine: its own node
// name, AMQP and distribution ports, its own epmd on a free port, and its data, logs, config and
// Erlang cookie (HOME) in a temporary folder. AMQP on 127.0.0.1 only, no management plugin, a
// user with a password. It boots in seconds: start it once per test file.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import amqplib from 'amqplib'
import { freePort, processTree, scratchDir, waitFor } from './common.js'
import { childEnv } from '../helpers.js'
import { requireBinary, type ServerProcess, spawnServer } from './datastore.js'

export interface RabbitmqServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly user: string
  readonly password: string
  /** `amqp://user:password@127.0.0.1:port`: a connection string with the credentials in it. */
  readonly url: string
  /** The pid of the running node (rabbitmq-server; the Erlang VM runs below it). */
  readonly pid: number
  /** SIGKILL to the node's whole process tree, as a crash would. Data and epmd stay. */
  kill: () => Promise<void>
  /** Starts the node again on the same ports (after kill()). */
  start: () => Promise<void>
  /** Kills the node and its epmd for good and removes the folder. */
  stop: () => Promise<void>
  /** Runs rabbitmqctl against this node; resolves with its standard output. */
  ctl: (...args: string[]) => Promise<string>
  /** The channels the broker holds open, per connection name (`127.0.0.1:port -> …`). */
  channels: () => Promise<number>
}

const SBIN = '/usr/lib/rabbitmq/bin'

/** Sends SIGKILL to a process and everything below it. */
async function killTree (pid: number): Promise<void> {
  for (const each of await processTree(pid)) {
    try { process.kill(each, 'SIGKILL') } catch {}
  }
}

export async function startRabbitmq (): Promise<RabbitmqServer> {
  const server = requireBinary(join(SBIN, 'rabbitmq-server'), 'rabbitmq-server')
  const rabbitmqctl = requireBinary(join(SBIN, 'rabbitmqctl'), 'rabbitmq-server')
  const epmd = requireBinary('/usr/bin/epmd', 'erlang-base')
  const dir = await scratchDir('rabbitmq')
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()]
  const user = 'health'
  const password = `pw-${randomBytes(12).toString('hex')}`
  const node = `health-${randomBytes(4).toString('hex')}@localhost`
  const home = join(dir.path, 'home')
  await mkdir(home)
  await mkdir(join(dir.path, 'log'))
  await writeFile(join(dir.path, 'rabbitmq.conf'), [
    `listeners.tcp.1 = 127.0.0.1:${port}`,
    `default_user = ${user}`,
    `default_pass = ${password}`,
    'loopback_users = none',
    'log.console = false',
    'log.file.level = warning',
    ''
  ].join('\n'))
  // No plugin at all: management (and its HTTP listener) stays off.
  await writeFile(join(dir.path, 'enabled_plugins'), '[].\n')
  const env = childEnv({
    HOME: home,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(dir.path, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir.path, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir.path, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir.path, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir.path, 'enabled_plugins'),
    // Not the machine's /etc/rabbitmq/rabbitmq-env.conf.
    RABBITMQ_CONF_ENV_FILE: join(dir.path, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(dir.path, 'rabbitmq.pid')
  })
  // An epmd of its own, in the foreground: a child of this process that stop() can kill, where
  // the one Erlang starts by itself would be a daemon outside any process tree of ours.
  const portMapper = spawnServer(epmd, ['-port', String(epmdPort), '-address', '127.0.0.1'], join(dir.path, 'epmd.log'))
  let running: ServerProcess | undefined
  const url = `amqp://${user}:${password}@127.0.0.1:${port}`

  const kill = async (): Promise<void> => {
    const current = running
    running = undefined
    if (current?.child.pid === undefined) return
    await killTree(current.child.pid)
    await current.exited
  }
  const start = async (): Promise<void> => {
    if (running !== undefined) throw new Error('rabbitmq-server is running already')
    // spawnServer's child gets this process's environment: the node needs its own.
    const spawned = spawn(server, [], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const log = createWriteStream(join(dir.path, 'rabbitmq-server.log'), { flags: 'a' })
    spawned.stdout.pipe(log)
    spawned.stderr.pipe(log)
    const started: ServerProcess = {
      child: spawned,
      exited: new Promise<string>((resolve) => spawned.once('exit', (code, signal) => resolve(signal ?? String(code))))
    }
    running = started
    await waitFor('RabbitMQ to accept AMQP connections', async () => {
      if (started.child.exitCode !== null) throw new Error(`rabbitmq-server exited with ${started.child.exitCode}; see ${dir.path}/log`)
      const model = await amqplib.connect(url)
      await model.close()
      return true
    }, 60_000, 250)
  }
  const ctl = (...args: string[]): Promise<string> => new Promise((resolve, reject) => {
    const child = spawn(rabbitmqctl, ['-n', node, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let errors = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString() })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve(output) : reject(new Error(`rabbitmqctl ${args.join(' ')} exited with ${code}: ${errors.slice(-1000)}`)))
  })

  try {
    await start()
  } catch (error) {
    await kill()
    portMapper.child.kill('SIGKILL')
    await dir.remove()
    throw error
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url,
    get pid () {
      if (running?.child.pid === undefined) throw new Error('rabbitmq-server is not running')
      return running.child.pid
    },
    kill,
    start,
    stop: async () => {
      await kill()
      portMapper.child.kill('SIGKILL')
      await portMapper.exited
      await dir.remove()
    },
    ctl,
    channels: async () => (JSON.parse(await ctl('list_channels', '--formatter', 'json', 'name')) as unknown[]).length
  }
}
