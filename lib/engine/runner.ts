import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { Status, worstStatus } from '../states.js'
import { describeThrown, failedEntry, normalizeResult } from './normalize.js'
import type { CheckContext, CheckFunction, Reading, ProbeName } from './types.js'

export interface RunnerSettings {
  timeout: number
  critical: boolean
  cacheFor: number
  interval: number
  probes: ReadonlySet<ProbeName>
}

function readingOf (result: unknown): Reading {
  const entries = normalizeResult(result, new Date().toISOString())
  const status = entries.reduce((worst, entry) => worstStatus(worst, entry.status), Status.PASS as Status)
  return { entries, status, at: performance.now() }
}

const failedReading = (output: string): Reading =>
  ({ entries: [failedEntry(output, new Date().toISOString())], status: Status.FAIL, at: performance.now() })

/**
 * Runs one check: never more than one run in flight, a reading reused for `cacheFor`, a run
 * that outlives `timeout` reported as failed, and optionally a background loop every `interval`.
 */
export class CheckRunner {
  readonly name: string
  readonly settings: RunnerSettings
  readonly #check: CheckFunction
  readonly #onReading: () => void
  readonly #context: CheckContext
  #reading: Reading | undefined
  /** The run whose reading is not recorded yet: every caller in the meantime shares it. */
  #pending: Promise<void> | undefined
  /** The check function has not settled yet; it may outlive its timeout. */
  #running = false
  #abort: AbortController | undefined
  /** The timeout of the run in flight. */
  #deadline: NodeJS.Timeout | undefined
  /** The background loop's next run. */
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (name: string, check: CheckFunction, settings: RunnerSettings, onReading: () => void, log: FastifyBaseLogger) {
    this.name = name
    this.#context = { log: log.child({ check: name }) }
    this.#check = check
    this.settings = settings
    this.#onReading = onReading
  }

  get reading (): Reading | undefined {
    return this.#reading
  }

  /**
   * Starts a run when the reading is stale. Returns what a caller must wait for, or undefined
   * when the last reading may be served: it is fresh, or a refresh it outlives is under way.
   */
  refresh (now: number): Promise<void> | undefined {
    const reading = this.#reading
    if (reading === undefined) return this.#pending ?? this.#run()
    const { interval, cacheFor, timeout } = this.settings
    const age = now - reading.at
    if (interval > 0 || age < cacheFor) return undefined
    // Stale: start one run (not while a timed-out one is still going), and wait for it only when
    // the reading is too old to serve meanwhile; within cacheFor + timeout a caller would have
    // waited that long anyway. cacheFor 0 asks for a fresh reading every time: always wait.
    const run = this.#pending ?? (this.#running ? undefined : this.#run())
    return cacheFor > 0 && age < cacheFor + timeout ? undefined : run
  }

  /**
   * Until when `refresh()` would return undefined without starting anything: never before the
   * first reading, for good once a background loop keeps it, else until the reading goes stale.
   */
  freshUntil (): number {
    const reading = this.#reading
    if (reading === undefined) return -Infinity
    return this.settings.interval > 0 ? Infinity : reading.at + this.settings.cacheFor
  }

  /** Runs in the background every `interval` ms from now on (no-op without an interval). */
  start (): void {
    if (this.settings.interval > 0 && this.#timer === undefined && !this.#stopped) this.#loop()
  }

  /** Stops the background loop and aborts a run in flight. */
  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    // A check that ignores its signal must not hold a closed process open until its timeout.
    clearTimeout(this.#deadline)
    this.#abort?.abort(new Error('The health checks were stopped'))
  }

  #loop = (): void => {
    const run = this.#pending ?? (this.#running ? undefined : this.#run())
    const next = (): void => {
      if (this.#stopped) return
      this.#timer = setTimeout(this.#loop, this.settings.interval)
      // A background check must never keep a process alive on its own.
      this.#timer.unref()
    }
    // Both ways: a loop must go on, and never leave a rejection unhandled.
    Promise.resolve(run).then(next, next)
  }

  #run (): Promise<void> {
    const abort = new AbortController()
    this.#abort = abort
    this.#running = true
    const result = new Promise((resolve) => resolve(this.#check(abort.signal, this.#context)))
    const settled = (): void => { this.#running = false }
    result.then(settled, settled)

    const timedOut = new Promise<Reading>((resolve) => {
      this.#deadline = setTimeout(() => {
        abort.abort(new Error(`Timed out after ${this.settings.timeout} ms`))
        resolve(failedReading(`Timed out after ${this.settings.timeout} ms`))
      }, this.settings.timeout)
    })
    const reading = Promise.race([
      // catch() after then(): a result that breaks normalisation is a failed reading too.
      result.then(readingOf).catch((error: unknown) => failedReading(describeThrown(error))),
      timedOut
    ])
    this.#pending = reading.then((latest) => {
      clearTimeout(this.#deadline)
      this.#reading = latest
      this.#pending = undefined
      this.#onReading()
    })
    return this.#pending
  }
}
