// A throwaway redis-server for the tests: 127.0.0.1 on a free port, its own temporary folder, no
// persistence, a password (so that a test can prove it never leaks), and the server's own count
// of PINGs (INFO commandstats) read over a connection of its own. With `cluster: true` it is a
// one-node Redis Cluster that holds every slot: a real cluster, cheap enough for a test.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, retryOnAddressInUse, scratchDir, waitFor } from './common.js'
import { logTail, requireBinary, type ServerProcess, spawnServer } from './datastore.js'

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly password: string
  /** `redis://:password@127.0.0.1:port`: a connection string with the credentials in it. */
  readonly url: string
  /** With `tls`: the TLS port, beside the plain one, and its `rediss://:password@127.0.0.1:port`. */
  readonly tlsPort?: number
  readonly tlsUrl?: string
  /** The pid of the running server (it changes with start()). */
  readonly pid: number
  /** SIGKILL, as a crash would: even a frozen server goes at once. The folder stays. */
  kill: () => Promise<void>
  /** Starts the server again on the same port (after kill()). */
  start: () => Promise<void>
  /** Kills the server for good and removes its folder. */
  stop: () => Promise<void>
  /** PING commands the running server has answered (they start at 0 with each start()). */
  pings: () => Promise<number>
  /** Client connections the running server holds, not counting the one that asks. */
  clients: () => Promise<number>
}

const binary = (): string => requireBinary('/usr/bin/redis-server', 'redis-server')

/** One command over a connection of its own, closed after: it never sends a PING. */
async function command (port: number, password: string, args: [string, ...string[]]): Promise<unknown> {
  const admin = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  admin.on('error', () => {})
  try {
    await admin.connect()
    return await admin.call(...args)
  } finally {
    // QUIT is answered once the server let the connection go, so that clients() never counts it.
    await admin.quit().catch(() => admin.disconnect())
  }
}

const infoField = (info: string, field: string): number => Number(new RegExp(`${field}[:=](\\d+)`).exec(info)?.[1] ?? 0)

/** With `tls`, the server also listens for TLS on a port of its own, with this certificate and key (no client certificate asked). */
export async function startRedis (options: { cluster?: boolean, tls?: { certFile: string, keyFile: string, caFile: string } } = {}): Promise<RedisServer> {
  const redisServer = binary()
  const dir = await scratchDir('redis')
  const logFile = join(dir.path, 'redis.log')
  const password = `pw-${randomBytes(12).toString('hex')}`
  // Picked before the server binds it (--port 0 turns TCP off): a start that finds it taken
  // meanwhile tries again with another one.
  let port = 0
  let tlsPort: number | undefined
  const args = (): string[] => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir.path, '--daemonize', 'no',
      '--save', '', '--appendonly', 'no', '--requirepass', password, '--logfile', ''
    ]
    if (options.tls !== undefined) {
      args.push('--tls-port', String(tlsPort), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile,
        '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no')
    }
    if (options.cluster === true) {
      // nodes.conf keeps the slots across a restart; the announced address is what CLUSTER SLOTS tells.
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir.path, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1', '--masterauth', password)
    }
    return args
  }
  let server: ServerProcess | undefined
  let slotsAdded = false

  const run = (args: [string, ...string[]]): Promise<unknown> => command(port, password, args)
  const kill = async (): Promise<void> => {
    const running = server
    server = undefined
    if (running === undefined) return
    running.child.kill('SIGKILL')
    await running.exited
  }
  const start = async (): Promise<void> => {
    if (server !== undefined) throw new Error('redis-server is running already')
    const started = spawnServer(redisServer, args(), logFile)
    server = started
    await waitFor('redis-server to accept connections', async () => {
      if (started.child.exitCode !== null || started.child.signalCode !== null) throw new Error(`redis-server exited: ${await logTail(logFile)}`)
      return await run(['INFO', 'server']).then(() => true, () => false)
    }, 15_000)
    if (options.cluster === true) {
      if (!slotsAdded) await run(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'])
      slotsAdded = true
      await waitFor('the cluster to be ok', async () => String(await run(['CLUSTER', 'INFO'])).includes('cluster_state:ok'), 15_000)
    }
  }
  try {
    await retryOnAddressInUse(async () => {
      port = await freePort()
      if (options.tls !== undefined) tlsPort = await freePort()
      await start().catch(async (error: unknown) => {
        await kill()
        throw error
      })
    })
  } catch (error) {
    // Never a server (or its folder) left behind by a start that failed half-way.
    await kill()
    await dir.remove()
    throw error
  }
  return {
    host: '127.0.0.1',
    port,
    password,
    url: `redis://:${password}@127.0.0.1:${port}`,
    tlsPort,
    tlsUrl: tlsPort === undefined ? undefined : `rediss://:${password}@127.0.0.1:${tlsPort}`,
    get pid () {
      if (server?.child.pid === undefined) throw new Error('redis-server is not running')
      return server.child.pid
    },
    kill,
    start,
    stop: async () => {
      await kill()
      await dir.remove()
    },
    pings: async () => infoField(String(await run(['INFO', 'commandstats'])), 'cmdstat_ping:calls'),
    clients: async () => infoField(String(await run(['INFO', 'clients'])), 'connected_clients') - 1
  }
}
