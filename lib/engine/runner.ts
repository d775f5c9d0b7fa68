import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { abortTies, type ListenerTable, listenersOf, listenerTableOf } from './abort-listeners.js'
import { type Batch, cancel, schedule } from './batches.js'
import { isoDateTime } from '../formats.js'
import { Status, worstStatus } from '../states.js'
import { describeThrown, failedEntry, normalizeResult, type ReadingEntry } from './normalize.js'
import type { CheckContext, CheckFunction, ProbeName, Reading } from './types.js'

export interface RunnerSettings {
  timeout: number
  critical: boolean
  cacheFor: number
  /** 0: no background loop; runs start when a request finds the reading stale. */
  interval: number
  /**
   * Without an interval: every this many ms, a run starts if the reading is stale, so that the
   * latest reading stays fresh without requests (metrics read it). 0: off.
   */
  keepFresh: number
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
  /** A reading was recorded; `previous` is the one before it (undefined for the first). */
  reading: (runner: CheckRunner, previous: Reading | undefined) => void
  /** What freshUntil() says may have moved earlier: a run that outlived its timeout settled. */
  due: (runner: CheckRunner) => void
}

const ignore = (): void => {}
/** What a removed runner tells: nothing, so that a run that settles late changes nothing. */
const detached: RunnerEvents = { reading: ignore, due: ignore }

const defaults = {
  /**
   * How often a signal is looked at for composites tied to it (see #spare): every this many runs.
   * What AbortSignal.any([signal, ...]) ties to a signal without a listener stays on it until it
   * is dropped (Node.js 20 never lets go of a composite's entry): a signal found tied is let go,
   * so that one holds at most this many composites. A signal nothing is tied to serves every run: a new
   * AbortController every 16 runs cost a thousand checks a tenth of their readings'
   * instructions (bench/README.md).
   */
  signalRuns: 16
} as const

/** What the `output` of a reading says when the instance stopped while its run was in flight. */
const STOPPED_OUTPUT = 'The instance stopped before the check answered'

/** The worst status among the entries. */
function worstOf (entries: readonly ReadingEntry[]): Status {
  let worst: Status = Status.PASS
  for (const entry of entries) worst = worstStatus(worst, entry.status)
  return worst
}

/**
 * The entries of a run that failed (a throw, a timeout, a stop). They keep the identity of the
 * previous reading's nodes (componentId and componentType, whichever they had), each failed with
 * `output`, so that a timeout still says which server it was and what kind.
 */
function failureEntries (output: string, previous: Reading | undefined, time: string): ReadingEntry[] {
  const failed = failedEntry(output, time)
  const seen = new Set<string>()
  const entries: ReadingEntry[] = []
  for (const { componentId, componentType } of previous?.entries ?? []) {
    if (componentId === undefined && componentType === undefined) continue
    const key = JSON.stringify([componentId, componentType])
    if (seen.has(key)) continue
    seen.add(key)
    entries.push({
      ...(componentId === undefined ? {} : { componentId }),
      ...(componentType === undefined ? {} : { componentType }),
      ...failed
    })
  }
  return entries.length === 0 ? [failed] : entries
}

/** A run's outcome before it is judged: its entries, how long it took, and when it ended. */
interface Outcome {
  entries: ReadingEntry[]
  durationMs: number
  /** Date.now() when it ended: the entries' `time` says the same moment. */
  time: number
  /** performance.now() when it ended. */
  at: number
}

/** A run whose reading is not recorded yet. It ends once: with its result, a timeout, a stop or a removal. */
interface Run {
  readonly abort: AbortController
  readonly started: number
  /** Its timeout; armed after the turn of the event loop that started it (see #arm). */
  deadline: NodeJS.Timeout | undefined
  /** What a caller waits for, made only when one does: a background run needs no promise. */
  done: Promise<void> | undefined
  ended: (() => void) | undefined
}

/**
 * Runs one check: never more than one run in flight, a reading reused for `cacheFor`, a run
 * that outlives `timeout` reported as failed, and optionally a background loop every `interval`.
 * Each reading is an immutable value: its entries, its own status and how it counts, judged
 * against the failure and success thresholds when it arrives. Logs runs turning slow.
 */
export class CheckRunner {
  /**
   * Runners whose run started in this turn of the event loop, their timeouts not yet armed. Most
   * checks answer within the turn (a cached value, a pool's idle connection): they never need a
   * timer. One setImmediate arms the rest, each for what is left of its timeout.
   */
  static readonly #unarmed: CheckRunner[] = []

  static #armAll (): void {
    const runners = CheckRunner.#unarmed.splice(0)
    for (const runner of runners) runner.#arm()
  }

  readonly name: string
  readonly settings: RunnerSettings
  readonly #check: CheckFunction
  #events: RunnerEvents
  readonly #context: CheckContext
  #reading: Reading | undefined
  /** The check counts as failing: its failureThreshold was reached, its successThreshold not since. */
  #failing = false
  /** How many readings in a row failed (or did not), the latest included. */
  #streak = 0
  /** The latest run was slow: the next slow one is not logged again. */
  #slow = false
  /** The run whose reading is not recorded yet: every caller in the meantime shares it. */
  #run: Run | undefined
  /** The check function has not settled yet; it may outlive its run (a timeout). */
  #running = false
  /**
   * The signal of a run that ended untouched (not aborted, no listener left on it), given to the
   * next run: a new AbortController costs more than a whole reading of a cheap check (5 µs on
   * Node.js 20). One found with composites tied to it, looked at every defaults.signalRuns runs,
   * is let go.
   */
  #spare: AbortController | undefined
  /** How many runs the latest signal has served. */
  #served = 0
  /** Where Node.js keeps the latest signal's listeners, read once (abort-listeners.ts); undefined: not kept so. */
  #listeners: ListenerTable | undefined
  /** The background loop waits for the run in flight to end before it sets its next timer. */
  #loopWaits = false
  /** The background loop's next run (batches.ts: a timer shared with the runs due about then). */
  #next: Batch | undefined
  #stopped = false
  #started = false

  constructor (name: string, check: CheckFunction, settings: RunnerSettings, events: RunnerEvents, log: FastifyBaseLogger) {
    this.name = name
    this.#context = { log: log.child({ check: name }) }
    this.#check = check
    this.settings = settings
    this.#events = events
  }

  /** The latest reading; undefined before the first. */
  get reading (): Reading | undefined {
    return this.#reading
  }

  /**
   * Starts a run when the reading is stale. Returns what a caller must wait for, or undefined
   * when the last reading may be served: it is fresh, or a refresh it outlives is under way.
   * Once stopped, nothing starts and nothing is waited for.
   */
  refresh (now: number): Promise<void> | undefined {
    if (this.#stopped) return undefined
    const reading = this.#reading
    if (reading === undefined) return this.#waitFor(this.#run ?? this.#start())
    const { interval, cacheFor, timeout } = this.settings
    const age = now - reading.at
    if (interval > 0 || age < cacheFor) return undefined
    // Stale: start one run (not while a timed-out one is still going), and wait for it only when
    // the reading is too old to serve meanwhile; within cacheFor + timeout a caller would have
    // waited that long anyway. cacheFor 0 asks for a fresh reading every time: always wait.
    const run = this.#run ?? (this.#running ? undefined : this.#start())
    return run === undefined || (cacheFor > 0 && age < cacheFor + timeout) ? undefined : this.#waitFor(run)
  }

  /**
   * Until when `refresh()` would return undefined without starting anything: never before the
   * first reading; for good once stopped or a background loop keeps it, or while a run that
   * outlived its timeout goes on (its end is announced: `due`); while a run is under way, until a
   * caller would have to wait for it; else until the reading goes stale.
   */
  freshUntil (): number {
    if (this.#stopped) return Infinity
    const reading = this.#reading
    if (reading === undefined) return -Infinity
    const { interval, cacheFor, timeout } = this.settings
    if (interval > 0) return Infinity
    if (this.#run !== undefined) return cacheFor > 0 ? reading.at + cacheFor + timeout : -Infinity
    return this.#running ? Infinity : reading.at + cacheFor
  }

  /** Runs in the background every `interval` ms (or keeps fresh every `keepFresh` ms) from now on. */
  start (): void {
    // Once: a second loop would run the check twice as often. (The registry starts no stopped runner.)
    if (this.#started) return
    this.#started = true
    if (this.settings.interval > 0) this.#loop()
    else if (this.settings.keepFresh > 0) this.#keepFresh()
  }

  /**
   * Stops for good: no background run, no new run. A run in flight is aborted (its signal) and
   * ends now with a failed reading that says so, so that whoever waits for it is answered at once,
   * and no timer of the run outlives the stop.
   */
  stop (): void {
    // Called once, by the registry's stop() or for a check added after it.
    this.#stopped = true
    this.#unschedule()
    this.#cut(this.#failed(STOPPED_OUTPUT, 0), STOPPED_OUTPUT)
  }

  /**
   * The check is taken out: stopped, and a run in flight ends now without a reading, so that
   * whoever waits for it is answered at once and a late result changes nothing.
   */
  remove (): void {
    this.#events = detached
    this.#stopped = true
    this.#unschedule()
    this.#cut(undefined, 'The check was removed')
  }

  /** Ends the run in flight, if any, with `outcome`, and aborts its signal with `reason`. */
  #cut (outcome: Outcome | undefined, reason: string): void {
    const run = this.#run
    if (run === undefined) return
    run.abort.abort(new Error(reason))
    this.#end(run, outcome)
  }

  #loop = (): void => {
    if (this.#run !== undefined || !this.#running) {
      // After the run in flight (a request's, or a new one) ends: see #end.
      this.#loopWaits = true
      if (this.#run === undefined) this.#start()
    } else {
      // A run that outlived its timeout still goes on: no new one beside it; look again later.
      this.#again()
    }
  }

  /** The background loop's next run, `interval` ms from `now` (a timer that keeps no process alive). */
  #again (now = performance.now()): void {
    if (this.#stopped) return
    this.#next = schedule(this.settings.interval, this.#loop, now)
  }

  /** No background run any more, of whichever loop it has. */
  #unschedule (): void {
    cancel(this.#next, this.settings.interval > 0 ? this.#loop : this.#keepFresh)
  }

  /** Starts a run when the reading is stale, as a request would, then looks again in `keepFresh` ms. */
  #keepFresh = (): void => {
    // Never after stop(): it clears the timer, and start() does not start a stopped runner.
    // Nobody waits for it here; a failed run is a failed reading, never a rejection.
    this.refresh(performance.now())
    this.#next = schedule(this.settings.keepFresh, this.#keepFresh)
  }

  #waitFor (run: Run): Promise<void> {
    return (run.done ??= new Promise((resolve) => { run.ended = resolve }))
  }

  #start (): Run {
    let abort = this.#spare
    this.#spare = undefined
    if (abort === undefined) {
      abort = new AbortController()
      this.#served = 0
      this.#listeners = listenerTableOf(abort.signal)
    }
    this.#served++
    const run: Run = { abort, started: performance.now(), deadline: undefined, done: undefined, ended: undefined }
    this.#run = run
    this.#running = true
    let result: unknown
    try {
      result = this.#check(abort.signal, this.#context)
    } catch (error) {
      result = Promise.reject(error)
    }
    Promise.resolve(result).then(this.#answered, this.#threw)
    if (CheckRunner.#unarmed.push(this) === 1) setImmediate(CheckRunner.#armAll)
    return run
  }

  // The check function settled. Only one runs at a time (no run starts while one is running),
  // so the run it belongs to is the one in flight, or none if that ended first (a timeout, a stop).
  #answered = (value: unknown): void => {
    const time = Date.now()
    let entries: ReadingEntry[]
    // A result that breaks normalisation is a failed reading too.
    try {
      entries = normalizeResult(value, isoDateTime(time))
    } catch (error) {
      entries = failureEntries(describeThrown(error), this.#reading, isoDateTime(time))
    }
    this.#settled(entries, time)
  }

  #threw = (error: unknown): void => {
    const time = Date.now()
    this.#settled(failureEntries(describeThrown(error), this.#reading, isoDateTime(time)), time)
  }

  /** The outcome of a run that failed now, saying `output` (see failureEntries), after `durationMs`. */
  #failed (output: string, durationMs: number): Outcome {
    const time = Date.now()
    return { entries: failureEntries(output, this.#reading, isoDateTime(time)), durationMs, time, at: performance.now() }
  }

  #settled (entries: ReadingEntry[], time: number): void {
    this.#running = false
    const run = this.#run
    // It outlived its timeout: its reading is recorded already, and a new run may start now.
    if (run === undefined) {
      this.#events.due(this)
      return
    }
    // Not aborted (the run would have ended), and with no listener left on it that would fire
    // later: its controller serves the next run, unless a composite is found tied to it.
    const { signal } = run.abort
    if (listenersOf(signal, this.#listeners) === 0 && (this.#served % defaults.signalRuns !== 0 || abortTies(signal) === 0)) this.#spare = run.abort
    const at = performance.now()
    this.#end(run, { entries, durationMs: at - run.started, time, at })
  }

  /** Arms the timeout of the run in flight for what is left of it, unless it has ended or is armed. */
  #arm (): void {
    const run = this.#run
    if (run === undefined || run.deadline !== undefined) return
    const { timeout } = this.settings
    // Cleared when the run ends: when it fires, `run` is still the run in flight.
    run.deadline = setTimeout(() => {
      const output = `Timed out after ${timeout} ms`
      this.#cut(this.#failed(output, timeout), output)
    }, Math.max(0, timeout - (performance.now() - run.started)))
  }

  /** Ends `run`: its reading recorded (none on removal), its waiters answered, the loop told. */
  #end (run: Run, outcome: Outcome | undefined): void {
    clearTimeout(run.deadline)
    this.#run = undefined
    if (outcome !== undefined) this.#record(outcome)
    run.ended?.()
    if (this.#loopWaits) {
      this.#loopWaits = false
      this.#again(outcome?.at)
    }
  }

  /** Judges an outcome against the thresholds, keeps it as the latest reading, and tells. */
  #record ({ entries, durationMs, time, at }: Outcome): void {
    const previous = this.#reading
    const status = worstOf(entries)
    const failed = status === Status.FAIL
    const lastFailed = previous !== undefined && previous.status === Status.FAIL
    this.#streak = previous !== undefined && failed === lastFailed ? this.#streak + 1 : 1
    // A change between failing and not failing counts once enough readings in a row agree
    // (failureThreshold, successThreshold); until then a failing reading counts as warn and a
    // passing one as fail. `warn` is not failing.
    let judged: Status = status
    let held: Reading['held']
    if (failed !== this.#failing) {
      const threshold = failed ? this.settings.failureThreshold : this.settings.successThreshold
      if (this.#streak < threshold) {
        judged = failed ? Status.WARN : Status.FAIL
        held = { streak: this.#streak, threshold }
      } else {
        this.#failing = failed
      }
    }
    // A failing check that is not critical lowers an answer to warn, never to fail.
    const counted = judged === Status.FAIL && !this.settings.critical ? Status.WARN : judged
    // Not frozen: a reading never leaves the engine as an object (answers are built from it as
    // JSON text), and nothing in it changes it. Freezing its three objects cost about a tenth of a
    // reading's instructions (bench/README.md).
    this.#reading = { entries, status, counted, held, at, time, durationMs }
    this.#timed(durationMs)
    this.#events.reading(this, previous)
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
