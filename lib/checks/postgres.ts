// postgresCheck: `SELECT 1` on a pg Pool, a pg Client or the @fastify/postgres decorator, timed
// and rated; and the 'error' listener such objects need so that a dropped connection cannot
// crash the process. pg is not a dependency: the objects are described structurally.
import { performance } from 'node:perf_hooks'
import type { CheckFunction, ComponentDetail } from '../engine/types.js'
import {
  checkOptions, invalidTarget, type ResponseTimeOptions, serverId, timedReading
} from './common.js'
import { OutageLog, scrubber, watchErrors } from './outage.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** The port pg connects to when none is set. */
  port: 5432,
  query: 'SELECT 1'
} as const

export type PostgresCheckOptions = ResponseTimeOptions

type ErrorListener = (error: unknown) => void

interface Emitter {
  on: (event: 'error', listener: ErrorListener) => unknown
  removeListener: (event: 'error', listener: ErrorListener) => unknown
}

/** A client checked out of a pg Pool. */
interface PgPoolClient extends Emitter {
  query: (text: string) => Promise<unknown>
  /** With an error (or true) the pool destroys the client instead of keeping it. */
  release: (error?: Error | boolean) => void
}

/** What the settings of a pg Pool (`pool.options`) may hold. */
interface PgSettings {
  host?: unknown
  port?: unknown
  database?: unknown
  user?: unknown
  password?: unknown
  connectionString?: unknown
}

/** A pg Pool (pg-pool). */
export interface PgPoolLike extends Emitter {
  connect: () => Promise<PgPoolClient>
  options: PgSettings
  totalCount: number
  idleCount: number
}

/** A pg Client: one connection, its settings resolved by pg. */
export interface PgClientLike extends Emitter, PgSettings {
  query: (text: string) => Promise<unknown>
  connect: () => unknown
  connectionParameters: object
}

/** What @fastify/postgres decorates `fastify.pg` (and `fastify.pg.<name>`) with. */
export interface PgDecoratorLike {
  pool: PgPoolLike
  query: (...args: never[]) => unknown
  connect: (...args: never[]) => unknown
}

export type PostgresTarget = PgPoolLike | PgClientLike | PgDecoratorLike

const FACTORY = 'postgresCheck'
const EXPECTED = 'a pg Pool, a pg Client or the @fastify/postgres decorator (fastify.pg)'
// @fastify/postgres refuses these as instance names: they are the decorator's own keys.
const DECORATOR_KEYS = new Set(['connect', 'pool', 'Client', 'query', 'transact'])

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null
const isEmitter = (value: Record<string, unknown>): boolean => typeof value.on === 'function' && typeof value.removeListener === 'function'

function isPostgresPool (value: unknown): value is PgPoolLike {
  return isRecord(value) && isEmitter(value) && typeof value.connect === 'function' && isRecord(value.options) &&
    typeof value.totalCount === 'number' && typeof value.idleCount === 'number'
}

function isPostgresClient (value: unknown): value is PgClientLike {
  return isRecord(value) && isEmitter(value) && typeof value.query === 'function' && typeof value.connect === 'function' &&
    isRecord(value.connectionParameters)
}

function isPostgresDecorator (value: unknown): value is PgDecoratorLike {
  return isRecord(value) && isPostgresPool(value.pool) && typeof value.query === 'function' && typeof value.connect === 'function'
}

export function isPostgresTarget (value: unknown): value is PostgresTarget {
  return isPostgresPool(value) || isPostgresClient(value) || isPostgresDecorator(value)
}

/**
 * The instances @fastify/postgres put at `fastify.pg`: the default one (name undefined) when
 * registered, and every named one, which the plugin sets as `fastify.pg[name]` (on the default
 * decorator when there is one, else on an empty object).
 */
export function postgresInstances (decorator: unknown): Array<{ name: string | undefined, target: PgDecoratorLike }> {
  if (!isRecord(decorator)) return []
  const found: Array<{ name: string | undefined, target: PgDecoratorLike }> = []
  if (isPostgresDecorator(decorator)) found.push({ name: undefined, target: decorator })
  for (const [name, value] of Object.entries(decorator)) {
    if (!DECORATOR_KEYS.has(name) && isPostgresDecorator(value)) found.push({ name, target: value })
  }
  return found
}

type Field = 'host' | 'port' | 'database' | 'user' | 'password'
const ENVIRONMENT: Record<Field, string> = { host: 'PGHOST', port: 'PGPORT', database: 'PGDATABASE', user: 'PGUSER', password: 'PGPASSWORD' }

/** The fields of a connection string, decoded; {} when there is none or it is no URL. */
function connectionStringFields (text: unknown): Partial<Record<Field, string>> & { rawPassword?: string } {
  if (typeof text !== 'string') return {}
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return {}
  }
  const field = (value: string): string | undefined => {
    if (value === '') return undefined
    try {
      return decodeURIComponent(value)
    } catch {
      // A stray '%': taken as written rather than failing the factory.
      return value
    }
  }
  return {
    // postgres:///db?host=/run/postgresql names a socket folder.
    host: url.searchParams.get('host') ?? field(url.hostname),
    port: field(url.port),
    database: field(url.pathname.slice(1)),
    user: field(url.username),
    password: field(url.password),
    // As written too: percent-encoded, it could show up in a message that quotes the string.
    rawPassword: url.password
  }
}

const text = (value: unknown): string | undefined => typeof value === 'string' || typeof value === 'number' ? String(value) : undefined

/** Where the target connects (as pg resolves it: connection string, settings, environment) and its secrets. */
function describe (target: PgPoolLike | PgClientLike): { componentId: string, secrets: string[], user?: string } {
  let setting: (field: Field) => string | undefined
  const secrets: string[] = []
  if (isPostgresPool(target)) {
    const { options } = target
    const parsed = connectionStringFields(options.connectionString)
    // pg lets the connection string win over the separate settings.
    setting = (field) => parsed[field] ?? text(options[field]) ?? process.env[ENVIRONMENT[field]]
    if (parsed.rawPassword !== undefined) secrets.push(parsed.rawPassword)
  } else {
    setting = (field) => text(target[field])
  }
  const user = setting('user')
  const password = setting('password')
  if (password !== undefined) secrets.push(password)
  // pg connects to the database named like the user when none is set: that would show the user.
  const database = setting('database')
  const componentId = serverId(setting('host'), setting('port') ?? defaults.port, database === user ? undefined : database)
  return { componentId, secrets, user }
}

/**
 * A check that runs `SELECT 1`. On a pool it takes one client, queries it and releases it; when
 * the signal aborts mid-query the client is released with an error, which makes the pool destroy
 * it rather than keep a hung connection. A client waited for (pool.connect()) cannot be called
 * off: the check settles when it arrives (and gives it back), and the runner starts no run
 * meanwhile, so the check never holds or waits for more than one connection. close() takes its
 * 'error' listener off the client (the one listener all checks of a client share goes with the last).
 */
export function postgresCheck (target: unknown, options?: PostgresCheckOptions): ReadyMadeCheck {
  const settings = checkOptions<PostgresCheckOptions>(FACTORY, options)
  const resolved = isPostgresDecorator(target) ? target.pool : target
  if (!isPostgresPool(resolved) && !isPostgresClient(resolved)) return invalidTarget(FACTORY, EXPECTED, target)
  const described = describe(resolved)
  const base: ComponentDetail = { componentType: 'datastore', componentId: settings.componentId ?? described.componentId }
  const scrub = scrubber(described.secrets, described.user)
  const outage = new OutageLog('PostgreSQL', base.componentId, scrub)
  const reading = (error: unknown): ComponentDetail => ({ ...base, status: 'fail', output: scrub(error) })
  const readings: Readings = {
    aborted: reading,
    failed: (error) => {
      outage.failed(error)
      return reading(error)
    },
    passed: (start) => {
      outage.passed()
      return timedReading(base, start, settings)
    }
  }
  const check = isPostgresClient(resolved) ? clientCheck(resolved, outage, readings) : poolCheck(resolved, outage, readings)
  return readyMade(check, watchErrors(resolved, outage.failed))
}

/** The readings of a run, the outage told of each. */
interface Readings {
  /** Not logged: the plugin's stop() aborts a run too. */
  aborted: (reason: unknown) => ComponentDetail
  failed: (error: unknown) => ComponentDetail
  passed: (start: number) => ComponentDetail
}

/**
 * A Client is the app's one connection: destroying it on abort would break the app, and a cancel
 * request stops whatever its backend runs then, maybe the app's own query. So the query is left
 * to finish (or fail with the connection); the runner starts no other run until it settles, so
 * at most one health query is ever queued on the client.
 */
function clientCheck (client: PgClientLike, outage: OutageLog, readings: Readings): CheckFunction {
  return async (signal, context) => {
    outage.run(context.log)
    if (signal.aborted) return readings.aborted(signal.reason)
    const start = performance.now()
    try {
      await client.query(defaults.query)
      return readings.passed(start)
    } catch (error) {
      return readings.failed(error)
    }
  }
}

function poolCheck (pool: PgPoolLike, outage: OutageLog, readings: Readings): CheckFunction {
  return async (signal, context) => {
    outage.run(context.log)
    if (signal.aborted) return readings.aborted(signal.reason)
    const start = performance.now()
    let client: PgPoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      return readings.failed(error)
    }
    if (signal.aborted) {
      // Not used: the pool may keep it.
      client.release()
      return readings.aborted(signal.reason)
    }
    // A checked-out client has no listener of the pool's: without this one, a connection that
    // drops during the query would emit 'error' with nobody listening.
    client.on('error', outage.failed)
    let released = false
    // An error (or true) makes the pool destroy the client rather than keep a broken or hung one.
    const release = (error?: Error | true): void => {
      if (released) return
      released = true
      client.release(error)
      client.removeListener('error', outage.failed)
    }
    const abort = (): void => { release(new Error('The health check was aborted')) }
    signal.addEventListener('abort', abort, { once: true })
    const failure = await client.query(defaults.query).then(() => undefined, (error: unknown) => ({ error }))
    signal.removeEventListener('abort', abort)
    if (failure === undefined) {
      release()
      return readings.passed(start)
    }
    release(true)
    return signal.aborted ? readings.aborted(signal.reason) : readings.failed(failure.error)
  }
}
