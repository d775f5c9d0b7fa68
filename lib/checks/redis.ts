// Redis: one PING over the application's own client (ioredis, an ioredis Cluster, node-redis, or
// what @fastify/redis decorates). Never more than one PING of a check in flight, whatever the
// client queues while it is offline, and the client's 'error' events can no longer crash the
// process: they are logged once per outage instead.
import { performance } from 'node:perf_hooks'
import type { ComponentDetail } from '../engine/types.js'
import { checkOptions, failedReading, invalidTarget, oneLine, type ResponseTimeOptions, serverId, timedReading } from './common.js'
import { listen, OutageLog, untilAborted } from './outage.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** The port the clients connect to when none is set. */
  port: 6379,
  host: 'localhost'
} as const

interface Emitter {
  on (event: string, listener: (error: unknown) => void): unknown
  removeListener (event: string, listener: (error: unknown) => void): unknown
}

/**
 * What redisCheck reads of an ioredis client (`new Redis()`, or what @fastify/redis decorates)
 * or Cluster. Where it connects is read from `options` (a client) or `startupNodes` (a Cluster).
 */
export interface IoRedisClient extends Emitter {
  status: string
  isCluster: boolean
  ping (): Promise<unknown>
}

// ioredis fills in host, port and db when they are left out.
interface IoRedisOptions { host: string, port: number, path?: string | null, db: number, sentinels?: unknown[] | null, name?: string | null }

/** What redisCheck reads of a node-redis client (`createClient()`, v4 and later). */
export interface NodeRedisClient extends Emitter {
  isOpen: boolean
  isReady: boolean
  options: { socket?: { host?: string, port?: number, path?: string }, database?: number }
  sendCommand (args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>
  withAbortSignal (signal: AbortSignal): unknown
}

export type RedisTarget = IoRedisClient | NodeRedisClient

export interface RedisCheckOptions extends ResponseTimeOptions {}

const FACTORY = 'redisCheck'
const EXPECTED = 'an ioredis client or Cluster, a node-redis client (createClient()) or an @fastify/redis client (fastify.redis or fastify.redis.<namespace>)'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null
const isEmitter = (value: Record<string, unknown>): boolean => typeof value.on === 'function' && typeof value.removeListener === 'function'

function isIoRedis (value: unknown): value is IoRedisClient {
  return isObject(value) && typeof value.status === 'string' && typeof value.isCluster === 'boolean' &&
    typeof value.ping === 'function' && isEmitter(value)
}

function isNodeRedis (value: unknown): value is NodeRedisClient {
  // withAbortSignal sets a client apart from node-redis' cluster and pool, whose sendCommand differs.
  return isObject(value) && typeof value.isOpen === 'boolean' && typeof value.isReady === 'boolean' &&
    typeof value.sendCommand === 'function' && typeof value.withAbortSignal === 'function' && isEmitter(value)
}

/** An ioredis client or Cluster, or a node-redis client. */
export function isRedisTarget (value: unknown): value is RedisTarget {
  return isIoRedis(value) || isNodeRedis(value)
}

/**
 * The clients @fastify/redis decorated `fastify.redis` with: the default one (name undefined),
 * which the namespaced ones are attached to as properties when both are registered, or only the
 * namespaced ones, on an object of their own.
 */
export function redisInstances (decorator: unknown): Array<{ name: string | undefined, target: RedisTarget }> {
  if (!isObject(decorator)) return []
  const found: Array<{ name: string | undefined, target: RedisTarget }> = []
  if (isRedisTarget(decorator)) found.push({ name: undefined, target: decorator })
  for (const [name, value] of Object.entries(decorator)) {
    if (isRedisTarget(value)) found.push({ name, target: value })
  }
  return found
}

/** `host:port` of one of a Cluster's startup nodes: a port, `host:port`, a URL or `{ host, port }`. */
function nodeId (node: unknown): string {
  if (typeof node === 'number') return serverId(defaults.host, node)
  if (typeof node === 'string') {
    // A URL may hold a password: only its host and port are kept.
    if (node.includes('://')) {
      try {
        const url = new URL(node)
        return serverId(url.hostname, url.port === '' ? defaults.port : url.port)
      } catch {
        return 'redis'
      }
    }
    const [host, port] = node.includes(':') ? node.split(':') : /^\d+$/.test(node) ? [defaults.host, node] : [node, defaults.port]
    return serverId(host, port)
  }
  const { host, port } = Object(node) as { host?: unknown, port?: unknown }
  return serverId(typeof host === 'string' ? host : defaults.host, typeof port === 'number' ? port : defaults.port)
}

const database = (db: number | undefined): string | undefined => db === undefined || db === 0 ? undefined : String(db)

/** Where the client connects, without credentials: `host:port`, `host:port/db`, a socket path. */
function targetId (target: RedisTarget): string {
  if (isNodeRedis(target)) {
    const { socket = {}, database: db } = target.options
    return socket.path ?? serverId(socket.host ?? defaults.host, socket.port ?? defaults.port, database(db))
  }
  if (target.isCluster) {
    const { startupNodes } = target as { startupNodes?: unknown }
    return Array.isArray(startupNodes) && startupNodes.length > 0 ? startupNodes.map(nodeId).join(',') : 'cluster'
  }
  const { host, port, path, db, sentinels, name } = (target as unknown as { options: IoRedisOptions }).options
  if (typeof path === 'string' && path !== '') return path
  // Behind Sentinel the server changes: the master group's name is what stays.
  if (Array.isArray(sentinels)) return `${String(name)} (sentinel)`
  return serverId(host, port, database(db))
}

/** Why a PING would wait in the client's offline queue now, or undefined when it goes out at once. */
function offline (target: RedisTarget): string | undefined {
  if (isNodeRedis(target)) {
    if (!target.isOpen) return 'The client is not open (connect() was not called, or it was closed)'
    return target.isReady ? undefined : 'The client is not ready (it is reconnecting)'
  }
  // 'wait' is a lazyConnect client that never connected: the PING connects it, as any command would.
  return target.status === 'ready' || target.status === 'wait' ? undefined : `The client is not ready (status: ${target.status})`
}

/** Sends one PING; node-redis drops it from its queue when `cancel` aborts before it is written. */
function ping (target: RedisTarget, cancel: AbortSignal): Promise<unknown> {
  return isNodeRedis(target) ? target.sendCommand(['PING'], { abortSignal: cancel }) : target.ping()
}

interface Flight {
  start: number
  /** Settles once the PING is answered (undefined) or failed (its error); never rejects. */
  done: Promise<{ error: unknown } | undefined>
  cancel: AbortController
}

/**
 * A check that sends PING over `target` and reports the round trip in ms (`componentType:
 * 'datastore'`). A client that is not connected fails at once instead of queueing the PING;
 * a PING still unanswered when a run times out is waited for by the next run, never repeated.
 * close() takes its 'error' listener off the client (the one listener all checks of a client
 * share goes with the last).
 */
export function redisCheck (target: RedisTarget, options?: RedisCheckOptions): ReadyMadeCheck {
  if (!isRedisTarget(target)) invalidTarget(FACTORY, EXPECTED, target)
  const settings = checkOptions<RedisCheckOptions>(FACTORY, options)
  const base: ComponentDetail = { componentType: 'datastore', componentId: settings.componentId ?? targetId(target) }
  const outages = new OutageLog('Redis', base.componentId)
  // What an offline client last failed with, to say why it is offline.
  let lastError: unknown
  const onError = (error: unknown): void => {
    lastError = error
    outages.failed(error)
  }
  // Added, never replacing the application's own: without one an 'error' event crashes the
  // process (node-redis) or is printed to stderr on every reconnection attempt (ioredis).
  const releases = [listen(target, 'error', onError)]
  if (isIoRedis(target) && target.isCluster) releases.push(listen(target, 'node error', onError))
  let flight: Flight | undefined

  const send = (): Flight => {
    const cancel = new AbortController()
    const done = ping(target, cancel.signal).then(() => undefined, (error: unknown) => ({ error }))
    const sent: Flight = { start: performance.now(), done, cancel }
    done.then(() => { if (flight === sent) flight = undefined })
    return sent
  }
  // Offline, a PING waits in the client's queue: node-redis lets it be dropped, ioredis does not.
  const dropQueued = (): void => { if (offline(target) !== undefined) flight?.cancel.abort() }

  return readyMade(async (signal, context) => {
    outages.run(context.log)
    const why = offline(target)
    if (why !== undefined) {
      dropQueued()
      return { ...base, status: 'fail', output: lastError === undefined ? why : `${why}; last error: ${oneLine(lastError)}` }
    }
    flight ??= send()
    const { start, done } = flight
    const failed = await untilAborted(done, signal).catch((aborted: unknown) => {
      dropQueued()
      throw aborted
    })
    if (failed !== undefined) return failedReading(base, failed.error)
    outages.passed()
    lastError = undefined
    return timedReading(base, start, settings)
  }, () => { for (const release of releases) release() })
}
