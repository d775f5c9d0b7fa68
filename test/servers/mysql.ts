// A throwaway MariaDB for the tests: mariadb-install-db into a scratch folder, mariadbd (as
// root, which --user=root allows) listening on 127.0.0.1 on a free port with its socket in
// that folder; a user with a password owns the `health` database, and root reaches the server
// over the socket to count what the checks ran (user statistics: the health user's SELECTs).
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { freePort, retryOnAddressInUse, scratchDir, waitFor } from './common.js'
import { logTail, requireBinary, revive, runCommand, type ServerProcess, spawnServer, stopServer, type SqlServer } from './datastore.js'

/** USER_STATISTICS counts the health user's SELECTs; the process list holds the sessions. */
export type MysqlServer = SqlServer

/** mysql2's own count of a pool's connections (no public getter). */
export const connectionsOf = (pool: object): number => (pool as { _allConnections: { length: number } })._allConnections.length

export async function startMysql (): Promise<MysqlServer> {
  const install = requireBinary('/usr/bin/mariadb-install-db', 'mariadb-server')
  const mariadbd = requireBinary('/usr/sbin/mariadbd', 'mariadb-server')
  const dir = await scratchDir('mariadb')
  const data = join(dir.path, 'data')
  const socketPath = join(dir.path, 'mariadb.sock')
  const logFile = join(dir.path, 'mariadb.log')
  // A temporary folder of its own: at start-up MariaDB deletes every `#sql*` file in its tmpdir,
  // so two servers (or a server and an install) sharing /tmp delete each other's temporary
  // tables, and mariadb-install-db fails ("Error on delete of '/tmp/#sql-temptable-…'").
  const tmp = join(dir.path, 'tmp')
  const user = `health_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  // Picked before the server binds it (port 0 means 3306 to MariaDB): a start that finds it
  // taken meanwhile tries again with another one.
  let port = 0

  const admin = async <T>(run: (connection: mysql.Connection) => Promise<T>): Promise<T> => {
    const connection = await mysql.createConnection({ socketPath, user: 'root' })
    connection.on('error', () => {})
    try {
      return await run(connection)
    } finally {
      await connection.end()
    }
  }

  let server: ServerProcess | undefined
  const halt = async (): Promise<void> => {
    if (server !== undefined) await stopServer(server, 'SIGTERM')
  }
  const start = async (): Promise<void> => {
    const started = spawnServer(mariadbd, [
      '--no-defaults', `--datadir=${data}`, `--tmpdir=${tmp}`, `--socket=${socketPath}`, `--port=${port}`,
      '--bind-address=127.0.0.1', '--skip-networking=0', '--user=root', '--skip-name-resolve',
      `--pid-file=${join(dir.path, 'mariadb.pid')}`, '--skip-log-bin', '--userstat=1',
      '--innodb-buffer-pool-size=16M', '--performance-schema=OFF', '--max-connections=60'
    ], logFile)
    server = started
    let gone = false
    started.exited.then(() => { gone = true }, () => {})
    await waitFor('MariaDB to accept connections', async () => {
      if (gone) throw new Error(`mariadbd exited: ${await logTail(logFile)}`)
      return await admin(async () => true)
    }, 30_000, 100)
  }

  try {
    await mkdir(tmp)
    await runCommand(install, ['--no-defaults', `--datadir=${data}`, `--tmpdir=${tmp}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'])
    await retryOnAddressInUse(async () => {
      port = await freePort()
      await start().catch(async (error: unknown) => {
        await halt()
        throw error
      })
    })
    await admin(async (connection) => {
      await connection.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`)
      await connection.query('CREATE DATABASE health')
      await connection.query(`GRANT ALL ON health.* TO '${user}'@'127.0.0.1'`)
    })
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
    connectionString: `mysql://${user}:${password}@127.0.0.1:${port}/health`,
    halt,
    start,
    revive: () => revive(server, () => admin(async () => true), async () => {
      await halt()
      await start()
    }),
    healthQueries: () => admin(async (connection) => {
      const [rows] = await connection.query('SELECT SELECT_COMMANDS AS n FROM information_schema.USER_STATISTICS WHERE USER = ?', [user])
      return Number((rows as Array<{ n: number }>)[0]?.n ?? 0)
    }),
    sessions: () => admin(async (connection) => {
      const [rows] = await connection.query('SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user])
      return Number((rows as Array<{ n: number }>)[0].n)
    }),
    stop: async () => {
      await halt()
      await dir.remove()
    }
  }
}
