import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Answer, type AnswerView, briefAnswer, detailedAnswer } from './answer.js'
import { describeThrown } from './engine/normalize.js'
import { CheckRegistry } from './engine/registry.js'
import type { CheckRunner } from './engine/runner.js'
import type { CheckDefinition, CheckFunction, CheckOptions, CheckRun, HealthSnapshot, Reading, StatusCause, StatusChange } from './engine/types.js'
import { FST_HEALTH_INVALID_LISTENER, FST_HEALTH_INVALID_STATE } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { redact } from './redact.js'
import type { HealthHistory } from './history/schema.js'
import type { HealthResponse } from './schema.js'
import { isState, State, Status, worstStatus } from './states.js'
import { checkView, type HealthView } from './views.js'

/** What `GET /health` answers: the HTTP status code and the health+json document. */
export interface HealthReport {
  statusCode: number
  body: HealthResponse
}

export type { CheckRun, HealthSnapshot, StatusCause, StatusChange }

/** Told of each change of the overall status; a promise it returns is not awaited (a rejection is logged). */
export type ChangeListener = (current: Status, previous: Status, report: HealthReport) => void | Promise<void>

/**
 * The state of one service, its checks, and what its endpoints answer: `fastify.health`.
 * Methods are bound, so they can be passed around as callbacks.
 */
export interface HealthController {
  /** The current state. */
  readonly state: State
  /** Moves to `state`; anything that is not a State value throws FST_HEALTH_INVALID_STATE. */
  setState: (state: State) => void
  setStateWarmUp: () => void
  setStateWorking: () => void
  setStateShutDown: () => void
  setStateNoInfo: () => void
  /**
   * Adds a dependency check under the draft's `componentName:measurementName` key: a function, or
   * `{ check, close?, ...options }` (what the ready-made checks return), `options` over its own.
   * A bad name, a duplicate or a bad option throws a FST_HEALTH_* error.
   */
  addCheck: (name: string, check: CheckFunction | CheckDefinition, options?: CheckOptions) => void
  /**
   * Takes the check named `name` out at run time: its background loop stops, a run in flight is
   * aborted (its signal) and its result ignored, its `close()` is called, and the answers no
   * longer show it; a change of
   * the overall status is logged and passed to `onChange` listeners. Returns `true` when a check
   * was removed, `false` (changing nothing) when none has that name. The name may be added again.
   */
  removeCheck: (name: string) => boolean
  /** Calls `listener` on every change of the overall status; returns the unsubscribe function. */
  onChange: (listener: ChangeListener) => () => void
  /**
   * Exactly what `GET /health` answers with the details (running the checks that are due). Once
   * the instance has closed, the last readings, running nothing.
   */
  report: () => Promise<HealthReport>
  /**
   * Drains and stops the service: Shutting down at once (readiness answers 503), every route
   * served as usual for `shutdownDelay` ms so that load balancers take it out of rotation, then
   * the instance closes (at once if something else closes it first). Resolves when it is closed;
   * a second call returns the same promise. Nothing of the plugin keeps the process alive after.
   */
  shutdown: () => Promise<void>
  /**
   * What the history keeps (the `history` option): `history(name)` a check's last readings and
   * status changes, `history()` the overall status's changes; undefined with `history: false`,
   * and for a name no check has.
   */
  history: HealthHistory
}

/** What hears of every recorded run (see HealthLifecycle.onRun). */
export type RunListener = (run: CheckRun, runner: CheckRunner) => void

/** What the plugin itself drives, kept off `fastify.health`. */
export interface HealthLifecycle {
  /** The answer of a view (by name), with or without the details, once the checks it counts are fresh enough. */
  answer: (view: string, detailed: boolean) => Answer | Promise<Answer>
  /**
   * The answer of the check named `name` alone, once its reading is fresh enough; undefined when
   * no check has that name (or it was removed while the request waited).
   */
  checkAnswer: (name: string) => Answer | undefined | Promise<Answer | undefined>
  /**
   * The instance is ready, every check added: a group of the user's that counts no check throws
   * FST_HEALTH_EMPTY_GROUP; a selector that picks no check is logged as a warning.
   */
  verify: () => void
  /** The instance is ready: background checks start. */
  start: () => void
  /** Closing has begun: Shutting down, for good. */
  closing: () => void
  /** The instance has closed: checks stop, runs in flight end, what checks hold is released. */
  stop: () => Promise<void>
  /** The checks, for registering the ones the options name. */
  checks: CheckRegistry
  /** The latest status of the service and of each check (thresholds applied), running nothing. */
  snapshot: () => HealthSnapshot
  /**
   * Calls `listener` after every check run whose reading is recorded, with the check's runner (an
   * identity for what is kept per check: a check removed and added again is another); returns the
   * unsubscribe function.
   */
  onRun: (listener: RunListener) => () => void
  /** Calls `listener` on every change of the overall status, with its cause; returns the unsubscribe function. */
  onStatus: (listener: (change: StatusChange) => void) => () => void
}

/** A value as an error message shows it; never throws (BigInt, cycles, symbols). */
function describeValue (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/**
 * Calls every listener; one that throws, or returns a promise that rejects (an async listener),
 * is logged and must not keep the others from hearing, nor crash the process.
 */
function notify<L> (listeners: Set<L>, call: (listener: L) => unknown, log: FastifyBaseLogger, what: string): void {
  for (const listener of listeners) {
    try {
      const returned = call(listener)
      if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
        (returned as PromiseLike<unknown>).then(undefined, (error: unknown) => { logThrown(log, what, error) })
      }
    } catch (error) {
      logThrown(log, what, error)
    }
  }
}

/** Logs what a listener threw: the message only, without its stack or a secret it quotes. */
function logThrown (log: FastifyBaseLogger, what: string, error: unknown): void {
  log.error({ error: redact(describeThrown(error)) }, `fastify-health: ${what} threw`)
}

/** Adds a listener to a set; returns the function that takes it out again. */
function subscribe<L> (listeners: Set<L>, listener: L, what: string): () => void {
  if (typeof listener !== 'function') throw new FST_HEALTH_INVALID_LISTENER(what)
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}

/** The answers of one view built since the last change, each built whole when first asked for. */
interface Built {
  /** The `revision` the detailed answer was built at, the `standing` the brief one was. */
  revision: number
  standing: number
  brief: Answer | undefined
  detailed: Answer | undefined
}

/** A check's log line when how it counts changes: it fails or warns (and why), or passes again. */
function checkChangeLine (name: string, reading: Reading, previous: Reading | undefined): string {
  if (reading.counted === Status.PASS) return `fastify-health: check "${name}" passes again`
  const said = reading.entries.find((entry) => entry.output !== undefined)?.output
  const verb = reading.counted === Status.FAIL ? 'fails' : 'warns'
  return `fastify-health: check "${name}" ${verb}${previous === undefined ? '' : ` (was ${previous.counted})`}${said === undefined ? '' : `: ${said}`}`
}

/** The controller of one service, and the lifecycle the plugin drives it with. */
export function createHealth (options: ResolvedOptions, log: FastifyBaseLogger, close: () => Promise<unknown>):
{ health: HealthController, lifecycle: HealthLifecycle } {
  const listeners = new Set<ChangeListener>()
  const runListeners = new Set<RunListener>()
  const statusListeners = new Set<(change: StatusChange) => void>()
  const views = new Map<string, HealthView>(options.views.map((view) => [view.name, view]))
  const built = new Map<string, Built>(options.views.map((view) => [view.name, { revision: -1, standing: -1, brief: undefined, detailed: undefined }]))
  /** The answer of each check on its own, for the drill-down; forgotten with the check. */
  const checkAnswers = new WeakMap<CheckRunner, { revision: number, answer: Answer }>()
  const checkAnswerView: AnswerView = { baseStatus: checkView.baseStatus, notes: checkView.notes, codes: options.statusCodes }
  let state: State = options.initialState
  let started = state === State.WORK
  /** Bumped on every change an answer depends on: readings, removals, the state. */
  let revision = 0
  /**
   * Bumped on every change a brief answer depends on: the state, and how the checks count (a
   * tally). Most readings leave it as it was, and the brief answer with it.
   */
  let standing = 0
  let shutdownPromise: Promise<void> | undefined
  /** Set once shutdown() or close() has begun: from then on the state stays Shutting down. */
  let closing = false
  /** Resolved when the instance begins to close, whoever closes it (ends shutdown()'s delay). */
  let closeBegun!: () => void
  const closeBegins = new Promise<void>((resolve) => { closeBegun = resolve })

  const checks = new CheckRegistry(options.views, {
    reading: (runner, previous) => {
      const reading = runner.reading as Reading
      if (reading.counted !== previous?.counted && (previous !== undefined || reading.counted !== Status.PASS)) {
        log[reading.counted === Status.PASS ? 'info' : 'warn']({ check: runner.name, status: reading.status, counted: reading.counted },
          checkChangeLine(runner.name, reading, previous))
      }
      if (runListeners.size > 0) {
        const { status, counted, durationMs, entries, time: at } = reading
        const run: CheckRun = { name: runner.name, status, durationMs, counted, previous: previous?.counted, entries, at }
        // Not notify(): these listeners are the plugin's own (the history, the metrics, the
        // channels), never async, and a reading is the hottest path there is.
        for (const listener of runListeners) {
          try {
            listener(run, runner)
          } catch (error) {
            logThrown(log, 'an onRun listener', error)
          }
        }
      }
      // The same standing leaves every tally, and so every status, as it was: only the entries moved.
      if (reading.counted === previous?.counted) revision++
      else changed({ check: runner.name })
    },
    removed: (runner) => changed({ check: runner.name })
  }, log, options.prometheus !== undefined || options.openTelemetry !== undefined)

  /** What a view answers now; built at most once per change and per level of detail. */
  function answerOf (view: string, detailed: boolean): Answer {
    const cache = built.get(view) as Built
    if (cache.revision !== revision) {
      cache.revision = revision
      cache.detailed = undefined
    }
    if (cache.standing !== standing) {
      cache.standing = standing
      cache.brief = undefined
    }
    const definition = views.get(view) as HealthView
    return detailed
      ? (cache.detailed ??= detailedAnswer(definition, state, started, checks.members(view), options))
      : (cache.brief ??= briefAnswer(definition, state, started, checks.tally(view), options))
  }

  function checkAnswerOf (runner: CheckRunner): Answer {
    const cached = checkAnswers.get(runner)
    if (cached !== undefined && cached.revision === revision) return cached.answer
    const answer = detailedAnswer(checkAnswerView, state, started, [runner], options)
    checkAnswers.set(runner, { revision, answer })
    return answer
  }

  /** The overall status now, from the state and the tally alone. */
  function overallStatus (): Status {
    const { warn, fail } = checks.tally('health')
    const base = (views.get('health') as HealthView).baseStatus(state, started)
    return worstStatus(base, fail > 0 ? Status.FAIL : warn > 0 ? Status.WARN : Status.PASS)
  }

  let status: Status = overallStatus()

  /** Something an answer depends on changed: note it, and announce a new overall status. */
  function changed (cause: StatusCause): void {
    revision++
    standing++
    const current = overallStatus()
    if (current === status) return
    const previous = status
    status = current
    // Built now, whole: what is logged and announced is what a request would be answered.
    const { statusCode, payload } = answerOf('health', true)
    const { output } = JSON.parse(payload) as HealthResponse
    // A check that turned worse is news for whoever is on call; a state change was asked for.
    const worse = worstStatus(previous, current) === current
    log['check' in cause && worse ? 'warn' : 'info']({ from: previous, to: current, cause, output }, 'fastify-health: status changed')
    announce(() => {
      if (statusListeners.size > 0) {
        const change: StatusChange = { at: Date.now(), from: previous, to: current, cause }
        notify(statusListeners, (listener) => listener(change), log, 'an onStatus listener')
      }
      // A listener's mistake must not break the health endpoint or the other listeners.
      notify(listeners, (listener) => listener(current, previous, { statusCode, body: JSON.parse(payload) }), log, 'an onChange listener')
    })
  }

  /** Changes whose listeners are still to be told, oldest first. */
  const announcements: Array<() => void> = []
  let announcing = false
  /**
   * Tells the listeners of a change after those of every earlier one: a listener that changes
   * the state makes a change within a change, and every listener must hear both in order.
   */
  function announce (tell: () => void): void {
    announcements.push(tell)
    if (announcing) return
    announcing = true
    for (let next = announcements.shift(); next !== undefined; next = announcements.shift()) next()
    announcing = false
  }

  const answer = (view: string, detailed: boolean): Answer | Promise<Answer> => {
    const wait = checks.refresh(view)
    return wait === undefined ? answerOf(view, detailed) : wait.then(() => answerOf(view, detailed))
  }

  const checkAnswer = (name: string): Answer | undefined | Promise<Answer | undefined> => {
    const runner = checks.get(name)
    if (runner === undefined) return undefined
    const wait = runner.refresh(performance.now())
    // Removed while the request waited: as if it had never been there.
    return wait === undefined ? checkAnswerOf(runner) : wait.then(() => checks.get(name) === runner ? checkAnswerOf(runner) : undefined)
  }

  const moveTo = (next: State): void => {
    if (next === state) return
    const from = state
    state = next
    if (next === State.WORK) started = true
    log.info({ from, to: next }, 'fastify-health: state changed')
    changed({ state: next })
  }

  const setState = (next: State): void => {
    if (!isState(next)) throw new FST_HEALTH_INVALID_STATE(describeValue(next))
    if (next === state) return
    if (closing) {
      // A late warm-up timer or a reconnect handler must not put a draining service back in
      // rotation: readiness would say 200 while the instance is about to close.
      log.warn({ state: next }, 'fastify-health: the service is shutting down; state change ignored')
      return
    }
    moveTo(next)
  }

  // Closing first, then the move: a listener told of the move may not move the state back.
  const beginClosing = (): void => {
    closing = true
    moveTo(State.SHUTDOWN)
  }

  const health: HealthController = {
    get state () { return state },
    setState,
    setStateWarmUp: () => setState(State.WARMUP),
    setStateWorking: () => setState(State.WORK),
    setStateShutDown: () => setState(State.SHUTDOWN),
    setStateNoInfo: () => setState(State.NOINFO),
    // No announcement: nothing changes until the check's first reading arrives.
    addCheck: (name, check, checkOptions) => checks.add(name, check, checkOptions),
    removeCheck: (name) => checks.remove(name),
    // Set by the history when it is on (lib/mount.ts).
    history: () => undefined,
    onChange: (listener) => subscribe(listeners, listener, 'onChange'),
    report: async () => {
      const { statusCode, payload } = await answer('health', true)
      return { statusCode, body: JSON.parse(payload) }
    },
    shutdown: () => {
      shutdownPromise ??= (async () => {
        const wasClosing = closing
        beginClosing()
        const delay = options.shutdownDelay
        if (!wasClosing) log.info({ shutdownDelay: delay }, `fastify-health: draining: readiness fails from now on, and the instance closes in ${delay} ms`)
        let timer: NodeJS.Timeout | undefined
        // Whichever comes first: the delay, or a close that something else began (a second signal).
        await Promise.race([new Promise((resolve) => { timer = setTimeout(resolve, delay) }), closeBegins])
        clearTimeout(timer)
        await close()
      })()
      return shutdownPromise
    }
  }

  const lifecycle: HealthLifecycle = {
    answer,
    checkAnswer,
    verify: () => checks.verify(),
    start: () => checks.start(),
    closing: () => {
      if (!closing) log.info('fastify-health: the instance is closing')
      beginClosing()
      closeBegun()
    },
    stop: () => checks.stop(),
    checks,
    snapshot: () => {
      const counted: HealthSnapshot['checks'] = []
      for (const runner of checks.all()) {
        const reading = runner.reading
        if (reading !== undefined) counted.push({ name: runner.name, status: reading.counted })
      }
      return { status, checks: counted }
    },
    onRun: (listener) => subscribe(runListeners, listener, 'onRun'),
    onStatus: (listener) => subscribe(statusListeners, listener, 'onStatus')
  }
  return { health, lifecycle }
}
