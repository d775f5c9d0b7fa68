// What the datastore and broker checks share about a client's connection: its 'error' events
// kept from crashing the process, logged once per outage, with no secret in the line.
import type { FastifyBaseLogger } from 'fastify'
import { oneLine } from './common.js'

/** An error as one line with no stack, the credentials cut out. */
export type Scrub = (error: unknown) => string

const escape = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * oneLine() with the configured secrets and the user name cut out too: database errors quote
 * the user ("password authentication failed for user …").
 */
export function scrubber (secrets: Array<string | undefined>, user?: string): Scrub {
  const patterns = secrets.filter((secret): secret is string => secret !== undefined && secret !== '')
    .map((secret) => new RegExp(escape(secret), 'g'))
  if (user !== undefined && user !== '') patterns.push(new RegExp(`(?<![\\w$])${escape(user)}(?![\\w$])`, 'g'))
  return (error) => patterns.reduce((line, pattern) => line.replace(pattern, '***'), oneLine(error))
}

/**
 * Logs the first error of each outage once, through the logger of the latest run (an error
 * that comes before any run waits for the first one); an outage ends when a reading passes.
 */
export class OutageLog {
  readonly #what: string
  readonly #componentId: string | undefined
  readonly #scrub: Scrub
  #log: FastifyBaseLogger | undefined
  #waiting: string | undefined
  #logged = false

  /** `what` names the server's kind in the message: "PostgreSQL", "Redis". */
  constructor (what: string, componentId: string | undefined, scrub: Scrub = oneLine) {
    this.#what = what
    this.#componentId = componentId
    this.#scrub = scrub
  }

  /** A run starts: its logger is the one to use from now on. */
  run (log: FastifyBaseLogger): void {
    this.#log = log
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting !== undefined) this.#write(log, waiting)
  }

  failed = (error: unknown): void => {
    if (this.#logged || this.#waiting !== undefined) return
    const line = this.#scrub(error)
    if (this.#log === undefined) this.#waiting = line
    else this.#write(this.#log, line)
  }

  recovered (): void {
    this.#logged = false
  }

  #write (log: FastifyBaseLogger, line: string): void {
    this.#logged = true
    log.warn({ componentId: this.#componentId, error: line }, `${this.#what} connection error (not logged again until the check passes)`)
  }
}

interface Emitter { on: (event: 'error', listener: (error: unknown) => void) => unknown }
type ErrorListener = (error: unknown) => void

// One 'error' listener per client, whatever number of checks watch it.
const watchers = new WeakMap<object, Set<ErrorListener>>()

/**
 * Keeps a client from crashing the process: an EventEmitter with no 'error' listener throws the
 * error it emits, and pg pools, pg, mysql2 and node-redis clients emit one when their server goes
 * away. The listener is added always, not only when the app has none: the app may add or remove
 * its own at any time, and its listeners still receive every event.
 */
export function watchErrors (emitter: Emitter, listener: ErrorListener): void {
  let listeners = watchers.get(emitter)
  if (listeners === undefined) {
    const set = new Set<ErrorListener>()
    listeners = set
    watchers.set(emitter, set)
    emitter.on('error', (error) => { for (const each of set) each(error) })
  }
  listeners.add(listener)
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
