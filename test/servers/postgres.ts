// A throwaway PostgreSQL for the tests: initdb and postgres run as the `postgres` user
// (PostgreSQL refuses root) in a scratch folder, listening on 127.0.0.1 on a free port with
// its socket in that folder; a user with a password owns the `health` database, and the
// superuser reaches the server over the socket (trust) to count what the checks ran.
import { readdirSync } from 'node:fs'
import { chmod, chown, copyFile, mkdir } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import { freePort, retryOnAddressInUse, scratchDir, waitFor } from './common.js'
import { logTail, requireBinary, revive, runCommand, type ServerProcess, spawnServer, stopServer, systemUser, type SqlServer } from './datastore.js'

const VERSIONS = '/usr/lib/postgresql'

/**
 * Registers, before the app's own close (tap runs teardowns last first), a teardown that waits
 * after the app has closed until the server has no session of the test user left. pg's
 * pool.end() resolves before its connections have closed; a server stopped meanwhile (the file's
 * teardown) sends them an error that reaches a pool nobody listens to any more (the check's
 * listener went with the app), and that crashes the test process.
 */
export function awaitSessionsEnd (t: Test, server: Pick<PostgresServer, 'sessions'>): void {
  t.teardown(() => waitFor('the closed app\'s PostgreSQL sessions to end', async () => (await server.sessions()) === 0, 10_000, 50))
}

/**
 * The binaries of the newest PostgreSQL installed (Debian: /usr/lib/postgresql/<major>/bin):
 * whatever major version the `postgresql` package brought on this release of Debian.
 */
function postgresBin (): string {
  let majors: number[] = []
  try {
    majors = readdirSync(VERSIONS).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => b - a)
  } catch {}
  if (majors.length === 0) throw new Error(`${VERSIONS} holds no PostgreSQL: this test needs a real server (Debian: apt-get install -y postgresql)`)
  return join(VERSIONS, String(majors[0]), 'bin')
}

/** pg_stat_statements counts the health queries; pg_stat_activity lists the sessions. */
export type PostgresServer = SqlServer

/** With `tls`, the server also takes SSL connections (`ssl=on`) with this certificate and key. */
export async function startPostgres (options: { tls?: { certFile: string, keyFile: string } } = {}): Promise<PostgresServer> {
  const bin = postgresBin()
  const initdb = requireBinary(join(bin, 'initdb'), 'postgresql')
  const postgres = requireBinary(join(bin, 'postgres'), 'postgresql')
  const owner = systemUser('postgres')
  const dir = await scratchDir('pg')
  const data = join(dir.path, 'data')
  const sockets = join(dir.path, 'run')
  const logFile = join(dir.path, 'postgres.log')
  const user = `health_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  // Picked before the server binds it (PostgreSQL cannot be given port 0): a start that finds
  // it taken meanwhile tries again with another one.
  let port = 0

  const admin = async <T>(database: string, run: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: sockets, port, user: 'postgres', database })
    client.on('error', () => {})
    await client.connect()
    try {
      return await run(client)
    } finally {
      await client.end()
    }
  }

  let server: ServerProcess | undefined
  const halt = async (): Promise<void> => {
    if (server !== undefined) await stopServer(server, 'SIGINT')
  }
  const start = async (): Promise<void> => {
    const started = spawnServer(postgres, [
      '-D', data, '-p', String(port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'track_counts=on',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=16MB', '-c', 'max_connections=40',
      ...(options.tls === undefined ? [] : ['-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir.path, 'server.crt')}`, '-c', `ssl_key_file=${join(dir.path, 'server.key')}`])
    ], logFile, owner)
    server = started
    let gone = false
    started.exited.then(() => { gone = true }, () => {})
    await waitFor('PostgreSQL to accept connections', async () => {
      if (gone) throw new Error(`postgres exited: ${await logTail(logFile)}`)
      return await admin('postgres', async () => true)
    }, 30_000, 100)
  }

  try {
    await chown(dir.path, owner.uid, owner.gid)
    await mkdir(sockets)
    await chown(sockets, owner.uid, owner.gid)
    if (options.tls !== undefined) {
      // PostgreSQL reads them as its own user, and refuses a key that others may read.
      for (const [from, to] of [[options.tls.certFile, 'server.crt'], [options.tls.keyFile, 'server.key']]) {
        await copyFile(from, join(dir.path, to))
        await chown(join(dir.path, to), owner.uid, owner.gid)
        await chmod(join(dir.path, to), 0o600)
      }
    }
    await runCommand(initdb, ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions', '-E', 'UTF8'], owner)
    await retryOnAddressInUse(async () => {
      port = await freePort()
      await start().catch(async (error: unknown) => {
        await halt()
        throw error
      })
    })
    await admin('postgres', async (client) => {
      await client.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`)
      await client.query(`CREATE DATABASE health OWNER ${user}`)
    })
    await admin('health', (client) => client.query('CREATE EXTENSION pg_stat_statements'))
  } catch (error) {
    // Never a server (or its folder) left behind by a start that failed half-way.
    await halt()
    await dir.remove()
    throw error
  }

  return {
    get pid () { return server?.child.pid as number },
    port,
    user,
    password,
    config: { host: '127.0.0.1', port, database: 'health', user, password },
    connectionString: `postgres://${user}:${password}@127.0.0.1:${port}/health`,
    halt,
    start,
    revive: () => revive(server, () => admin('postgres', async () => true), async () => {
      await halt()
      await start()
    }),
    healthQueries: () => admin('health', async (client) => {
      const { rows } = await client.query<{ calls: string }>(
        "SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements WHERE query = 'SELECT $1' AND dbid = (SELECT oid FROM pg_database WHERE datname = 'health')")
      return Number(rows[0].calls)
    }),
    sessions: () => admin('postgres', async (client) => {
      const { rows } = await client.query<{ count: string }>('SELECT count(*) AS count FROM pg_stat_activity WHERE usename = $1', [user])
      return Number(rows[0].count)
    }),
    stop: async () => {
      await halt()
      await dir.remove()
    }
  }
}
