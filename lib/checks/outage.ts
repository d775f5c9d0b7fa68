// What the datastore and broker checks share about a client's connection: its events listened
// to through one shared listener per client (released with the last check), and its outages
// logged once each, with no secret in the line, and their end in a line of its own.
import type { FastifyBaseLogger } from 'fastify'
import { performance } from 'node:perf_hooks'
import { oneLine } from './common.js'

export const defaults = {
  /**
   * Milliseconds of passing readings, with no failure among them, that end an outage: a server
   * shutting down still answers on the connections it has while it refuses new ones, and that
   * flapping is one outage, not one per flap.
   */
  settleMs: 10_000
} as const

/** An error as one line with no stack, the credentials cut out. */
export type Scrub = (error: unknown) => string

const escape = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** `value` where it is a whole token: no word character right before or after it. */
const token = (value: string): RegExp => new RegExp(`(?<![\\w$])${escape(value)}(?![\\w$])`, 'g')

/**
 * oneLine() with the configured secrets and the user name cut out too: database errors quote
 * the user ("password authentication failed for user …"). Each only where it is a whole token:
 * masked inside words, a short password (`e`) would show in every gap it left in the message.
 */
export function scrubber (secrets: Array<string | undefined>, user?: string): Scrub {
  const patterns = [...secrets, user].filter((value): value is string => value !== undefined && value !== '').map(token)
  return (error) => patterns.reduce((line, pattern) => line.replace(pattern, '***'), oneLine(error))
}

/**
 * Logs the first error of each outage once, through the logger of the latest run (an error
 * that comes before any run waits for the first one), and its end once: readings that passed
 * for `defaults.settleMs` with no failure in between.
 */
export class OutageLog {
  readonly #what: string
  readonly #componentId: () => string | undefined
  readonly #scrub: Scrub
  #log: FastifyBaseLogger | undefined
  #waiting: string | undefined
  #down = false
  /** performance.now() of the first passing reading since the last failure, while down. */
  #passingSince: number | undefined

  /**
   * `what` names the server's kind in the message: "PostgreSQL", "Redis". `componentId` may be
   * a function when it is learnt later (RabbitMQ's, from its first channel).
   */
  constructor (what: string, componentId: string | undefined | (() => string | undefined), scrub: Scrub = oneLine) {
    this.#what = what
    this.#componentId = typeof componentId === 'function' ? componentId : () => componentId
    this.#scrub = scrub
  }

  /** A run starts: its logger is the one to use from now on. */
  run (log: FastifyBaseLogger): void {
    this.#log = log
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting !== undefined) this.#warn(log, waiting)
  }

  /** A reading failed or the client emitted an error: the first of an outage is logged. */
  failed = (error: unknown): void => {
    this.#passingSince = undefined
    if (this.#down) return
    this.#down = true
    const line = this.#scrub(error)
    if (this.#log === undefined) this.#waiting = line
    else this.#warn(this.#log, line)
  }

  /** A reading passed (in a run: run() gave the logger): the outage ends once readings have passed long enough. */
  passed (): void {
    if (!this.#down) return
    const now = performance.now()
    this.#passingSince ??= now
    if (now - this.#passingSince < defaults.settleMs) return
    this.#down = false
    this.#passingSince = undefined
    const componentId = this.#componentId()
    // RabbitMQ's componentId may still be unknown: the line then names the kind only.
    const named = [this.#what, componentId].filter((part) => part !== undefined).join(' ')
    const log = this.#log as FastifyBaseLogger
    log.info({ componentId }, `fastify-health: ${named} reachable again`)
  }

  #warn (log: FastifyBaseLogger, line: string): void {
    log.warn({ componentId: this.#componentId(), error: line }, `${this.#what} connection error (not logged again until the check passes)`)
  }
}

type Listener = (value: unknown) => void

/** An EventEmitter, as far as the checks use one (methods: a client's own may name its events). */
export interface Listenable {
  on (event: string, listener: Listener): unknown
  removeListener (event: string, listener: Listener): unknown
}

/** One listener on an emitter's event, forwarding to every check's; a check's own is an entry. */
interface Shared {
  forward: Listener
  subscribers: Set<{ listener: Listener }>
}

const shared = new WeakMap<object, Map<string, Shared>>()

/**
 * Listens to `event` of `emitter` through one listener per emitter and event, whatever number of
 * checks listen (so that no MaxListenersExceededWarning comes of many checks); returns what stops
 * listening, which removes the shared listener with the last check. The app may add or remove
 * its own listeners at any time: they still receive every event.
 */
export function listen (emitter: Listenable, event: string, listener: Listener): () => void {
  let events = shared.get(emitter)
  if (events === undefined) {
    events = new Map()
    shared.set(emitter, events)
  }
  let entry = events.get(event)
  if (entry === undefined) {
    const subscribers = new Set<{ listener: Listener }>()
    entry = { forward: (value) => { for (const each of subscribers) each.listener(value) }, subscribers }
    events.set(event, entry)
    emitter.on(event, entry.forward)
  }
  const { forward, subscribers } = entry
  const subscription = { listener }
  subscribers.add(subscription)
  const byEvent = events
  return () => {
    if (!subscribers.delete(subscription) || subscribers.size > 0) return
    byEvent.delete(event)
    emitter.removeListener(event, forward)
  }
}

/**
 * Keeps a client from crashing the process: an EventEmitter with no 'error' listener throws the
 * error it emits, and pg pools, pg, mysql2 and node-redis clients emit one when their server goes
 * away. The listener is added always, not only when the app has none. Returns its release.
 */
export function watchErrors (emitter: Listenable, listener: Listener): () => void {
  return listen(emitter, 'error', listener)
}

/** Resolves as `promise` does, or rejects with the signal's reason once it aborts. */
export function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason)
    signal.addEventListener('abort', abort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}
