// A throwaway RabbitMQ node for the tests, apart from any other on the machine: its own node
// name, AMQP and distribution ports, its own epmd on a free port, and its data, logs, config and
// Erlang cookie (HOME) in a temporary folder. AMQP on 127.0.0.1 only, no management plugin, a
// user with a password. It boots in seconds: start it once per test file. Everything it
// runs dies with the test process (see spawnServer).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import amqplib from 'amqplib'
import { addressInUse, freePort, killTree, listeningPorts, retryOnAddressInUse, scratchDir, waitFor } from './common.js'
import { childEnv } from '../helpers.js'
import { logTail, requireBinary, type ServerProcess, spawnServer } from './datastore.js'

export interface RabbitmqServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly user: string
  readonly password: string
  /** `amqp://user:password@127.0.0.1:port`: a connection string with the credentials in it. */
  readonly url: string
  /** With `tls`: the AMQPS port, beside the plain one, and its `amqps://user:password@127.0.0.1:port`. */
  readonly tlsPort?: number
  readonly tlsUrl?: string
  /** The pid of the running node (rabbitmq-server; the Erlang VM runs below it). */
  readonly pid: number
  /** SIGKILL to the node's whole process tree, as a crash would; resolves once all of it has ended. Data and epmd stay. */
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

/**
 * Starts a node; its three ports (AMQP, distribution, epmd) are picked before they are bound, so
 * a start that fails because one was taken meanwhile (a process exits) starts over with new ones.
 */
export interface RabbitmqOptions {
  /** An AMQPS listener too, with this certificate and key (no client certificate asked). */
  tls?: { certFile: string, keyFile: string, caFile: string }
}

export async function startRabbitmq (options: RabbitmqOptions = {}): Promise<RabbitmqServer> {
  return await retryOnAddressInUse(() => startOnce(options), 3, (error) => addressInUse(error) || /exited/.test(String((error as Error)?.message)))
}

async function startOnce (options: RabbitmqOptions): Promise<RabbitmqServer> {
  const server = requireBinary(join(SBIN, 'rabbitmq-server'), 'rabbitmq-server')
  const rabbitmqctl = requireBinary(join(SBIN, 'rabbitmqctl'), 'rabbitmq-server')
  const epmd = requireBinary('/usr/bin/epmd', 'erlang-base')
  const dir = await scratchDir('rabbitmq')
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()]
  const tlsPort = options.tls === undefined ? undefined : await freePort()
  const user = 'health'
  const password = `pw-${randomBytes(12).toString('hex')}`
  const node = `health-${randomBytes(4).toString('hex')}@localhost`
  const home = join(dir.path, 'home')
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
  let portMapper: ServerProcess | undefined
  let running: ServerProcess | undefined
  const url = `amqp://${user}:${password}@127.0.0.1:${port}`
  const serverLog = join(dir.path, 'rabbitmq-server.log')

  const kill = async (): Promise<void> => {
    const current = running
    running = undefined
    if (current?.child.pid === undefined) return
    await killTree(current.child.pid)
    await current.exited
  }
  const start = async (): Promise<void> => {
    if (running !== undefined) throw new Error('rabbitmq-server is running already')
    // The node needs its own environment, not this process's.
    const started = spawnServer(server, [], serverLog, undefined, env)
    running = started
    await waitFor('RabbitMQ to accept AMQP connections', async () => {
      if (started.child.exitCode !== null) throw new Error(`rabbitmq-server exited with ${started.child.exitCode}: ${await logTail(serverLog)}; see ${dir.path}/log`)
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
  const stopMapper = async (): Promise<void> => {
    if (portMapper === undefined) return
    portMapper.child.kill('SIGKILL')
    await portMapper.exited
  }

  try {
    await mkdir(home)
    await mkdir(join(dir.path, 'log'))
    await writeFile(join(dir.path, 'rabbitmq.conf'), [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      `default_user = ${user}`,
      `default_pass = ${password}`,
      'loopback_users = none',
      'log.console = false',
      'log.file.level = warning',
      ...(options.tls === undefined
        ? []
        : [
            `listeners.ssl.1 = 127.0.0.1:${tlsPort}`,
            `ssl_options.cacertfile = ${options.tls.caFile}`,
            `ssl_options.certfile = ${options.tls.certFile}`,
            `ssl_options.keyfile = ${options.tls.keyFile}`,
            'ssl_options.verify = verify_none',
            'ssl_options.fail_if_no_peer_cert = false'
          ]),
      ''
    ].join('\n'))
    // No plugin at all: management (and its HTTP listener) stays off.
    await writeFile(join(dir.path, 'enabled_plugins'), '[].\n')
    // An epmd of its own, in the foreground: a child of this process that stop() can kill, where
    // the one Erlang starts by itself would be a daemon outside any process tree of ours.
    const epmdLog = join(dir.path, 'epmd.log')
    const mapper = spawnServer(epmd, ['-port', String(epmdPort), '-address', '127.0.0.1'], epmdLog)
    portMapper = mapper
    await waitFor('epmd to listen', async () => {
      if (mapper.child.exitCode !== null) throw new Error(`epmd exited with ${mapper.child.exitCode}: ${await logTail(epmdLog)}`)
      return (await listeningPorts(mapper.child.pid as number)).includes(epmdPort)
    }, 10_000)
    await start()
  } catch (error) {
    // Never a node, an epmd or a folder left behind by a start that failed half-way.
    await kill()
    await stopMapper()
    await dir.remove()
    throw error
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url,
    tlsPort,
    tlsUrl: tlsPort === undefined ? undefined : `amqps://${user}:${password}@127.0.0.1:${tlsPort}`,
    get pid () {
      if (running?.child.pid === undefined) throw new Error('rabbitmq-server is not running')
      return running.child.pid
    },
    kill,
    start,
    stop: async () => {
      await kill()
      await stopMapper()
      await dir.remove()
    },
    ctl,
    channels: async () => (JSON.parse(await ctl('list_channels', '--formatter', 'json', 'name')) as unknown[]).length
  }
}
