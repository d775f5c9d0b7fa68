// mysqlCheck: `SELECT 1` on a mysql2 Pool or Connection (callback or promise API) or the
// @fastify/mysql decorator, timed and rated; and the 'error' listener a connection needs so that
// a dropped one cannot crash the process. mysql2 is not a dependency: the objects are described
// structurally, and every form is driven through the callback core under it.
import { performance } from 'node:perf_hooks'
import type { ComponentDetail } from '../engine/types.js'
import { checkOptions, invalidTarget, type ResponseTimeOptions, serverId, timedReading } from './common.js'
import { OutageLog, type Scrub, scrubber, watchErrors } from './outage.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** Through the SQL layer, not only the connection as a ping would. */
  query: 'SELECT 1'
} as const

export type MysqlCheckOptions = ResponseTimeOptions

type ErrorListener = (error: unknown) => void
type QueryCallback = (error: Error | null) => void

/** What mysql2 keeps of a connection's settings (connection strings already parsed). */
interface MysqlSettings {
  host?: unknown
  port?: unknown
  socketPath?: unknown
  database?: unknown
  user?: unknown
  password?: unknown
}

/** A callback-API mysql2 connection (createConnection, or one a pool hands out). */
export interface MysqlConnectionLike {
  query: (sql: string, callback: QueryCallback) => unknown
  ping: (...args: never[]) => unknown
  destroy: () => void
  on: (event: 'error', listener: ErrorListener) => unknown
  removeListener: (event: 'error', listener: ErrorListener) => unknown
  /** The core objects have promise(); the mysql2/promise wrappers do not. */
  promise: (...args: never[]) => unknown
  config: MysqlSettings
}

/** A connection a pool handed out. */
interface PooledConnection extends MysqlConnectionLike {
  release: () => void
  stream: { destroy: () => void }
}

/** A callback-API mysql2 pool. */
export interface MysqlPoolLike {
  getConnection: (callback: (error: Error | null, connection: PooledConnection) => void) => void
  query: (...args: never[]) => unknown
  promise: (...args: never[]) => unknown
  config: { connectionConfig: MysqlSettings }
}

/** A mysql2/promise pool or connection, or the @fastify/mysql decorator: all wrap a core object. */
export type MysqlWrapperLike = { pool: unknown } | { connection: unknown }

export type MysqlTarget = MysqlPoolLike | MysqlConnectionLike | MysqlWrapperLike

const FACTORY = 'mysqlCheck'
const EXPECTED = 'a mysql2 Pool or Connection (callback or promise API) or the @fastify/mysql decorator (fastify.mysql)'
// The keys of an @fastify/mysql decorator: never instance names.
const DECORATOR_KEYS = new Set(['pool', 'connection', 'query', 'execute', 'getConnection', 'format', 'escape', 'escapeId'])

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

function isCorePool (value: unknown): value is MysqlPoolLike {
  return isRecord(value) && typeof value.getConnection === 'function' && typeof value.query === 'function' &&
    typeof value.promise === 'function' && isRecord(value.config) && isRecord(value.config.connectionConfig)
}

function isCoreConnection (value: unknown): value is MysqlConnectionLike {
  return isRecord(value) && typeof value.query === 'function' && typeof value.ping === 'function' &&
    typeof value.destroy === 'function' && typeof value.on === 'function' && typeof value.removeListener === 'function' &&
    typeof value.promise === 'function' && isRecord(value.config)
}

/**
 * The callback core under any accepted form: a promise pool's `.pool`, a promise connection's
 * `.connection`, and the @fastify/mysql decorator's `.pool` or `.connection` (itself maybe a
 * promise wrapper: two levels at most).
 */
function coreOf (value: unknown, depth = 0): MysqlPoolLike | MysqlConnectionLike | undefined {
  if (isCorePool(value) || isCoreConnection(value)) return value
  if (!isRecord(value) || depth === 2) return undefined
  return coreOf(value.pool, depth + 1) ?? coreOf(value.connection, depth + 1)
}

export function isMysqlTarget (value: unknown): value is MysqlTarget {
  return coreOf(value) !== undefined
}

/** An @fastify/mysql decorator: the mysql2 helpers beside a pool or connection. */
const isMysqlDecorator = (value: unknown): value is MysqlWrapperLike =>
  isRecord(value) && typeof value.escape === 'function' && typeof value.format === 'function' && isMysqlTarget(value)

/**
 * The instances @fastify/mysql put at `fastify.mysql`: the default one (name undefined) when
 * registered, and every named one, which the plugin sets as `fastify.mysql[name]` (on the
 * default decorator when there is one, else on an empty object).
 */
export function mysqlInstances (decorator: unknown): Array<{ name: string | undefined, target: MysqlWrapperLike }> {
  if (!isRecord(decorator)) return []
  const found: Array<{ name: string | undefined, target: MysqlWrapperLike }> = []
  if (isMysqlDecorator(decorator)) found.push({ name: undefined, target: decorator })
  for (const [name, value] of Object.entries(decorator)) {
    if (!DECORATOR_KEYS.has(name) && isMysqlDecorator(value)) found.push({ name, target: value })
  }
  return found
}

const text = (value: unknown): string | undefined => typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
/** The configured password and user name, cut out of every line (MySQL's errors name the user). */
const scrubberOf = (settings: MysqlSettings): Scrub => scrubber([text(settings.password)], text(settings.user))

/**
 * A check that runs `SELECT 1`. On a pool it takes one connection, queries it and releases it; when the signal aborts
 * mid-query the connection is destroyed (and so leaves the pool) rather than given back hung.
 * A connection waited for (getConnection) cannot be called off: the check settles when it
 * arrives (and gives it back), and the runner starts no run meanwhile, so the check never holds
 * or waits for more than one connection. On a connection, close() takes its 'error' listener off
 * (the one listener all checks of a connection share goes with the last).
 */
export function mysqlCheck (target: unknown, options?: MysqlCheckOptions): ReadyMadeCheck {
  const settings = checkOptions<MysqlCheckOptions>(FACTORY, options)
  const core = coreOf(target)
  if (core === undefined) return invalidTarget(FACTORY, EXPECTED, target)
  const config = isCorePool(core) ? core.config.connectionConfig : core.config
  const socket = text(config.socketPath)
  const componentId = settings.componentId ??
    serverId(socket ?? text(config.host), socket === undefined ? text(config.port) : undefined, text(config.database))
  const base: ComponentDetail = { componentType: 'datastore', componentId }
  const scrub = scrubberOf(config)
  const outage = new OutageLog('MySQL', componentId, scrub)

  const reading = (error: unknown): ComponentDetail => ({ ...base, status: 'fail', output: scrub(error) })
  const failed = (error: unknown): ComponentDetail => {
    outage.failed(error)
    return reading(error)
  }
  /** SELECT 1 on `connection`: resolves with its error, or null when it passed. */
  const select = (connection: MysqlConnectionLike): Promise<Error | null> =>
    new Promise((resolve) => { connection.query(defaults.query, (error) => { resolve(error instanceof Error ? error : null) }) })
  const outcome = (error: Error | null, start: number): ComponentDetail => {
    if (error !== null) return failed(error)
    outage.passed()
    return timedReading(base, start, settings)
  }

  if (isCoreConnection(core)) {
    const connection = core
    // A connection is the app's own: destroying it on abort would break the app. The query is
    // left to finish (or fail with the connection); the runner starts no other run until it
    // settles, so at most one health query is ever queued on the connection.
    return readyMade(async (signal, context) => {
      outage.run(context.log)
      // Aborted runs are not logged: the plugin's stop() aborts one too.
      if (signal.aborted) return reading(signal.reason)
      const start = performance.now()
      return outcome(await select(connection), start)
    }, watchErrors(connection, outage.failed))
  }

  const pool = core
  // A pool holds no listener of the check's: each run's connection has one while it is out.
  return readyMade(async (signal, context) => {
    outage.run(context.log)
    if (signal.aborted) return reading(signal.reason)
    const start = performance.now()
    let connection: PooledConnection
    try {
      connection = await new Promise<PooledConnection>((resolve, reject) => {
        pool.getConnection((error, got) => { error === null ? resolve(got) : reject(error) })
      })
    } catch (error) {
      return failed(error)
    }
    if (signal.aborted) {
      // Not used: the pool may keep it.
      connection.release()
      return reading(signal.reason)
    }
    // mysql2's own listener on a pool connection is a once(): this one stays while it is ours.
    connection.on('error', outage.failed)
    // Destroying the socket fails the query at once (mysql2's destroy() alone only half-closes
    // it and waits for a hung server).
    const abort = (): void => { connection.stream.destroy() }
    signal.addEventListener('abort', abort, { once: true })
    const error = await select(connection)
    signal.removeEventListener('abort', abort)
    if (error === null) {
      connection.removeListener('error', outage.failed)
      connection.release()
      return outcome(null, start)
    }
    // Out of the pool for good; the listener stays on it in case the dying socket says more.
    connection.destroy()
    return signal.aborted ? reading(signal.reason) : outcome(error, start)
  })
}
