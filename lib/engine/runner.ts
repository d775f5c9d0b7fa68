import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { Status, worstStatus } from '../states.js'
import { describeThrown, failedEntry, normalizeResult } from './normalize.js'
import type { CheckContext, CheckFunction, Reading, ProbeName, Verdict } from './types.js'

export interface RunnerSettings {
  timeout: number
  critical: boolean
  cacheFor: number
  interval: number
  probes: ReadonlySet<ProbeName>
  /** What the `groups` option can select the check by (`tag:<tag>`). */
  tags: ReadonlySet<string>
  failureThreshold: number
  successThreshold: number
  /** 0: off. */
  slowThreshold: number
}

/** What a runner tells whoever keeps track of it. */
export interface RunnerEvents {
  /** A reading was recorded, from a run of `ms`; `previous` is how the check counted before it. */
  reading: (runner: CheckRunner, previous: Status | undefined, ms: number) => void
  /** What freshUntil() says may have moved earlier: a run that outlived its timeout settled. */
  due: (runner: CheckRunner) => void
}

const ignore = (): void => {}
/** What a removed runner tells: nothing, so that a run that settles late changes nothing. */
const detached: RunnerEvents = { reading: ignore, due: ignore }

/** A run's reading, and how long the run took (a run that timed out took its timeout). */
interface Outcome {
  reading: Reading
  ms: number
}

function readingOf (result: unknown): Reading {
  const entries = normalizeResult(result, new Date().toISOString())
  const status = entries.reduce((worst, entry) => worstStatus(worst, entry.status), Status.PASS as Status)
  return { entries, status, at: performance.now() }
}

/**
 * A failed reading. It keeps the nodes of the previous reading, each failed with `output`, so
 * that a timeout still says which server it was (componentId) and what kind (componentType).
 */
function failedReading (output: string, previous: Reading | undefined): Reading {
  const time = new Date().toISOString()
  const nodes = previous?.entries.filter((entry) => entry.componentId !== undefined) ?? []
  const entries = nodes.length === 0
    ? [failedEntry(output, time)]
    : nodes.map(({ componentId, componentType }) => ({ componentId, componentType, ...failedEntry(output, time) }))
  return { entries, status: Status.FAIL, at: performance.now() }
}

/**
 * Runs one check: never more than one run in flight, a reading reused for `cacheFor`, a run
 * that outlives `timeout` reported as failed, and optionally a background loop every `interval`.
 * Judges its readings against the failure and success thresholds, and logs runs turning slow.
 */
export class CheckRunner {
  readonly name: string
  readonly settings: RunnerSettings
  readonly #check: CheckFunction
  #events: RunnerEvents
  readonly #context: CheckContext
  #reading: Reading | undefined
  #verdict: Verdict = { status: Status.PASS }
  /** The check counts as failing: its failureThreshold was reached, its successThreshold not since. */
  #failing = false
  /** Whether the latest reading failed, and how many readings in a row did the same. */
  #lastFailed = false
  #streak = 0
  /** The latest run was slow: the next slow one is not logged again. */
  #slow = false
  /** The run whose reading is not recorded yet: every caller in the meantime shares it. */
  #pending: Promise<void> | undefined
  /** The check function has not settled yet; it may outlive its timeout. */
  #running = false
  #abort: AbortController | undefined
  /** The timeout of the run in flight. */
  #deadline: NodeJS.Timeout | undefined
  /** Ends the run in flight at once, its result ignored (the check was removed). */
  #cut: ((outcome: undefined) => void) | undefined
  /** The background loop's next run. */
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (name: string, check: CheckFunction, settings: RunnerSettings, events: RunnerEvents, log: FastifyBaseLogger) {
    this.name = name
    this.#context = { log: log.child({ check: name }) }
    this.#check = check
    this.settings = settings
    this.#events = events
  }

  get reading (): Reading | undefined {
    return this.#reading
  }

  /** How the latest reading counts, given the ones before it. */
  get verdict (): Verdict {
    return this.#verdict
  }

  /**
   * How the check counts in an answer: its verdict, except that a failing check that is not
   * critical lowers an answer to warn, never to fail. Undefined before the first reading.
   */
  get counted (): Status | undefined {
    if (this.#reading === undefined) return undefined
    const { status } = this.#verdict
    return status === Status.FAIL && !this.settings.critical ? Status.WARN : status
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
   * first reading; for good once a background loop keeps it, or while a run that outlived its
   * timeout goes on (its end is announced: `due`); while a run is under way, until a caller would
   * have to wait for it; else until the reading goes stale.
   */
  freshUntil (): number {
    const reading = this.#reading
    if (reading === undefined) return -Infinity
    const { interval, cacheFor, timeout } = this.settings
    if (interval > 0) return Infinity
    if (this.#pending !== undefined) return cacheFor > 0 ? reading.at + cacheFor + timeout : -Infinity
    return this.#running ? Infinity : reading.at + cacheFor
  }

  /** Runs in the background every `interval` ms from now on (no-op without an interval). */
  start (): void {
    if (this.settings.interval > 0 && this.#timer === undefined && !this.#stopped) this.#loop()
  }

  /** Stops the background loop and aborts a run in flight. */
  stop (reason = 'The health checks were stopped'): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    // A check that ignores its signal must not hold a closed process open until its timeout.
    clearTimeout(this.#deadline)
    this.#abort?.abort(new Error(reason))
  }

  /**
   * The check is taken out: stopped, and a run in flight ends now without a reading, so that
   * whoever waits for it is answered at once and a late result changes nothing.
   */
  remove (): void {
    this.#events = detached
    this.stop('The check was removed')
    this.#cut?.(undefined)
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
    const started = performance.now()
    const result = new Promise((resolve) => resolve(this.#check(abort.signal, this.#context)))
    const settled = (): void => {
      this.#running = false
      // Outlived its timeout: its reading is recorded already, and a new run may start now.
      if (this.#pending === undefined) this.#events.due(this)
    }
    result.then(settled, settled)

    const { timeout } = this.settings
    // What ends a run before its result: the timeout, with a failed reading, or removal, with none.
    const cut = new Promise<Outcome | undefined>((resolve) => {
      this.#cut = resolve
      this.#deadline = setTimeout(() => {
        abort.abort(new Error(`Timed out after ${timeout} ms`))
        resolve({ reading: failedReading(`Timed out after ${timeout} ms`, this.#reading), ms: timeout })
      }, timeout)
    })
    const outcome = Promise.race([
      // catch() after then(): a result that breaks normalisation is a failed reading too.
      result.then(readingOf).catch((error: unknown) => failedReading(describeThrown(error), this.#reading))
        .then((reading) => ({ reading, ms: performance.now() - started })),
      cut
    ])
    this.#pending = outcome.then((latest) => {
      clearTimeout(this.#deadline)
      this.#pending = undefined
      if (latest === undefined) return
      const previous = this.counted
      this.#reading = latest.reading
      this.#verdict = this.#verdictOf(latest.reading.status)
      this.#timed(latest.ms)
      this.#events.reading(this, previous, latest.ms)
    })
    return this.#pending
  }

  /**
   * How a reading counts: a change between failing and not failing counts once enough readings
   * in a row agree (failureThreshold, successThreshold); until then a failing reading counts as
   * warn and a passing one as fail. `warn` is not failing.
   */
  #verdictOf (status: Status): Verdict {
    const failed = status === Status.FAIL
    this.#streak = failed === this.#lastFailed ? this.#streak + 1 : 1
    this.#lastFailed = failed
    if (failed !== this.#failing) {
      const threshold = failed ? this.settings.failureThreshold : this.settings.successThreshold
      if (this.#streak < threshold) {
        return { status: failed ? Status.WARN : Status.FAIL, held: { streak: this.#streak, threshold } }
      }
      this.#failing = failed
    }
    return { status }
  }

  /** Logs a run that turned slow: past slowThreshold, or timed out. Once until a run is fast again. */
  #timed (ms: number): void {
    const { slowThreshold, timeout } = this.settings
    if (slowThreshold === 0) return
    const slow = ms > slowThreshold || ms >= timeout
    if (slow && !this.#slow) {
      const durationMs = Math.round(ms)
      this.#context.log.warn({ durationMs, slowThreshold },
        `fastify-health: check "${this.name}" is slow: ${durationMs} ms (slowThreshold ${slowThreshold} ms)`)
    }
    this.#slow = slow
  }
}
