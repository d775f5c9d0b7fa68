import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { FST_HEALTH_DUPLICATE_CHECK, FST_HEALTH_EMPTY_GROUP, FST_HEALTH_INVALID_CHECK } from '../errors.js'
import { isCheckKey } from '../formats.js'
import { redact } from '../redact.js'
import { boolean, duration, firstMistake, isPlainObject, probeList, type Rule, tagList } from '../rules.js'
import { countsCheck, defaultProbes, type HealthView, selectorText, selects } from '../views.js'
import { Status } from '../states.js'
import { DueQueue } from './due-queue.js'
import { describeThrown } from './normalize.js'
import { CheckRunner, type RunnerEvents, type RunnerSettings } from './runner.js'
import type { CheckDefinition, CheckFunction, CheckOptions, ProbeName, Reading } from './types.js'

/** The defaults of the check options (see CheckOptions). */
export const CHECK_DEFAULTS = { timeout: 2000, critical: true, cacheFor: 1000, failureThreshold: 1, successThreshold: 1 } as const

/** A number of readings in a row: a whole number from 1. */
const readingCount: Rule = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'must be a positive integer (a number of readings in a row)'

const closer: Rule = (value) => typeof value === 'function' ? undefined : 'must be a function'

export const checkRules: Record<keyof CheckDefinition, Rule> = {
  timeout: duration(1),
  critical: boolean,
  cacheFor: duration(0),
  interval: duration(1),
  probes: probeList,
  tags: tagList,
  failureThreshold: readingCount,
  successThreshold: readingCount,
  slowThreshold: duration(1),
  // The function itself and what releases it, when a check comes as { check, close, ...options }: checked on their own.
  check: () => undefined,
  close: closer
}

function invalid (name: string, problem: string): never {
  throw new FST_HEALTH_INVALID_CHECK(name, problem)
}

/**
 * The settings of a check from its options. `background`: the check keeps fresh on its own,
 * looking every `cacheFor` (the default cacheFor when it is 0) unless it has an `interval` of its
 * own; requests still refresh it as usual. Metrics read the latest readings, and a scrape must not
 * be what runs a check.
 */
function settingsOf (name: string, options: Record<string, unknown>, background: boolean): RunnerSettings {
  const mistake = firstMistake(options, checkRules)
  if (mistake !== undefined) {
    invalid(name, mistake.problem === undefined ? `has an unknown option "${mistake.key}"` : `option "${mistake.key}" ${mistake.problem}`)
  }
  const given = options as CheckOptions
  const cacheFor = given.cacheFor ?? CHECK_DEFAULTS.cacheFor
  return {
    timeout: given.timeout ?? CHECK_DEFAULTS.timeout,
    critical: given.critical ?? CHECK_DEFAULTS.critical,
    cacheFor,
    interval: given.interval ?? 0,
    // cacheFor 0 asks for a run per request: in the background, the default cacheFor instead.
    keepFresh: background && given.interval === undefined ? (cacheFor > 0 ? cacheFor : CHECK_DEFAULTS.cacheFor) : 0,
    probes: new Set<ProbeName>(given.probes ?? defaultProbes),
    tags: new Set(given.tags),
    failureThreshold: given.failureThreshold ?? CHECK_DEFAULTS.failureThreshold,
    successThreshold: given.successThreshold ?? CHECK_DEFAULTS.successThreshold,
    // 0: no run is ever slow.
    slowThreshold: given.slowThreshold ?? 0
  }
}

/** How many of a view's checks count as warn and as fail: its status, without visiting them. */
export interface Tally {
  readonly warn: number
  readonly fail: number
}

/** The checks one view counts, in registration order, when each next needs a look, and their tally. */
class Members implements Tally {
  /** In registration order, changed in place: adding a check costs no copy. */
  readonly #list: CheckRunner[] = []
  /** What `runners` hands out: a copy made at the first look after a change, never changed itself. */
  #copy: readonly CheckRunner[] | undefined
  readonly due = new DueQueue<CheckRunner>()
  warn = 0
  fail = 0

  /**
   * The checks, in registration order: an array that never changes, a new one after each change.
   * Copied lazily: a copy per addition made adding n checks cost n² element copies, and on
   * Node.js 20 and 22 that much surviving garbage left process.nextTick ~5x slower for good, for
   * every route of the app (bench/README.md).
   */
  get runners (): readonly CheckRunner[] {
    return (this.#copy ??= this.#list.slice())
  }

  add (runner: CheckRunner): void {
    this.#list.push(runner)
    this.#copy = undefined
  }

  delete (runner: CheckRunner): void {
    this.#list.splice(this.#list.indexOf(runner), 1)
    this.#copy = undefined
  }

  /** A check's standing moved from `previous` to `current` (undefined: no reading, or gone). */
  recount (previous: Status | undefined, current: Status | undefined): void {
    if (previous === Status.WARN) this.warn--
    else if (previous === Status.FAIL) this.fail--
    if (current === Status.WARN) this.warn++
    else if (current === Status.FAIL) this.fail++
  }
}

/** What the registry tells its owner. */
interface RegistryEvents {
  /** A check has a new reading; the tallies count it already. `previous`: the one before. */
  reading: (runner: CheckRunner, previous: Reading | undefined) => void
  /** A check was taken out; the tallies no longer count it. */
  removed: (runner: CheckRunner) => void
}

/** A registered check: its runner, and what releases what it holds. */
interface Registered {
  readonly runner: CheckRunner
  /** Taken (set to undefined) when it is called: once, whether removeCheck() or the stop comes first. */
  close: (() => void | Promise<void>) | undefined
  /** The views that count it. */
  readonly countedIn: readonly Members[]
}

/**
 * The registered checks, in registration order, and which of them each view counts. Everything a
 * request needs is kept up to date as readings arrive, so that its cost does not grow with the
 * number of checks: the status of each view (a tally) and the checks due for a look (a queue
 * holding each check at most once). Memory is bounded by checks times views.
 */
export class CheckRegistry {
  readonly #checks = new Map<string, Registered>()
  readonly #views: readonly HealthView[]
  readonly #members: Map<string, Members>
  readonly #log: FastifyBaseLogger
  readonly #events: RegistryEvents
  /** Checks keep fresh on their own (see settingsOf). */
  readonly #background: boolean
  #started = false
  #stopped = false

  constructor (views: readonly HealthView[], events: RegistryEvents, log: FastifyBaseLogger, background = false) {
    this.#log = log
    this.#views = views
    this.#events = events
    this.#background = background
    this.#members = new Map(views.map((view) => [view.name, new Members()]))
  }

  /**
   * What a check's runner tells, about the views that count it (`countedIn`, filled once the
   * runner exists): kept with the runner, so that a reading looks nothing up by name.
   */
  #runnerEvents (countedIn: readonly Members[]): RunnerEvents {
    return {
      reading: (runner, previous) => {
        const current = (runner.reading as Reading).counted
        // A check with an interval is out of every due queue from its first reading on (its
        // freshUntil is Infinity for good): nothing to take out again.
        const freshUntil = runner.settings.interval === 0 || previous === undefined ? runner.freshUntil() : undefined
        for (const members of countedIn) {
          members.recount(previous?.counted, current)
          if (freshUntil !== undefined) members.due.schedule(runner, freshUntil)
        }
        this.#events.reading(runner, previous)
      },
      due: (runner) => {
        const freshUntil = runner.freshUntil()
        for (const members of countedIn) members.due.schedule(runner, freshUntil)
      }
    }
  }

  has (name: string): boolean {
    return this.#checks.has(name)
  }

  get (name: string): CheckRunner | undefined {
    return this.#checks.get(name)?.runner
  }

  /** Every check, in registration order. */
  * all (): IterableIterator<CheckRunner> {
    for (const { runner } of this.#checks.values()) yield runner
  }

  /** The checks a view counts, in registration order (a new array after each change: never mutated). */
  members (view: string): readonly CheckRunner[] {
    return (this.#members.get(view) as Members).runners
  }

  /** How many checks of a view count as warn and as fail now. */
  tally (view: string): Tally {
    return this.#members.get(view) as Members
  }

  /**
   * Adds a check: a function, or `{ check, close?, ...options }` with `options` over its own.
   * Checks the name and options up front; a mistake throws FST_HEALTH_INVALID_CHECK.
   */
  add (name: unknown, check: unknown, options: unknown = {}): void {
    if (!isCheckKey(name)) {
      invalid(String(name), 'has a bad name: expected "componentName:measurementName", either part optional, one colon at most')
    }
    if (this.#checks.has(name)) throw new FST_HEALTH_DUPLICATE_CHECK(name)
    if (typeof options !== 'object' || options === null || Array.isArray(options)) invalid(name, 'has options that are not an object')
    let definition: Record<string, unknown>
    if (typeof check === 'function') definition = { ...options, check }
    else if (isPlainObject(check) && typeof check.check === 'function') definition = { ...check, ...options }
    else invalid(name, 'must be a function or { check: function, close?: function, ...options }')
    const countedIn: Members[] = []
    const runner = new CheckRunner(name, definition.check as CheckFunction, settingsOf(name, definition, this.#background), this.#runnerEvents(countedIn), this.#log)
    for (const view of this.#views) {
      if (!countsCheck(view, runner)) continue
      const members = this.#members.get(view.name) as Members
      members.add(runner)
      // No reading yet: the next request runs it.
      members.due.schedule(runner, -Infinity)
      countedIn.push(members)
    }
    const registered: Registered = { runner, close: definition.close as Registered['close'], countedIn }
    this.#checks.set(name, registered)
    if (this.#stopped) {
      // Added after the stop (a reconnect handler during shutdown): it never runs, and what it
      // holds is released now, as the stop released every other check's.
      runner.stop()
      this.#release(registered).catch(() => {}) // #release never rejects: it logs
    } else if (this.#started) {
      runner.start()
    }
  }

  /**
   * Takes a check out: its loop stopped, a run in flight aborted and its result ignored, what it
   * holds released (close), and the change announced. False, changing nothing, when no check has
   * that name.
   */
  remove (name: string): boolean {
    const registered = this.#checks.get(name)
    if (registered === undefined) return false
    const { runner, countedIn } = registered
    this.#checks.delete(name)
    for (const members of countedIn) {
      members.delete(runner)
      members.due.forget(runner)
      members.recount(runner.reading?.counted, undefined)
    }
    runner.remove()
    this.#release(registered).catch(() => {}) // #release never rejects: it logs
    this.#events.removed(runner)
    return true
  }

  /** Registers `{ name: fn | { check: fn, close?, ...options } }`, the `checks` option's form. */
  addAll (checks: Record<string, unknown>): void {
    for (const [name, definition] of Object.entries(checks)) this.add(name, definition)
  }

  /**
   * Starts what the checks a view counts need and returns what must be awaited before answering,
   * or undefined when every reading can be served now (the common, allocation-free case). Visits
   * only the checks due for a look: none, until the first of them is.
   */
  refresh (view: string): Promise<unknown> | undefined {
    const { due } = this.#members.get(view) as Members
    if (due.size === 0) return undefined
    const now = performance.now()
    if (now < due.nextAt()) return undefined
    let waits: Array<Promise<void>> | undefined
    const looked: CheckRunner[] = []
    for (let runner = due.takeDue(now); runner !== undefined; runner = due.takeDue(now)) {
      const wait = runner.refresh(now)
      if (wait !== undefined) (waits ??= []).push(wait)
      looked.push(runner)
    }
    // Afterwards: one that is still due (a run to wait for) is looked at again by the next request.
    for (const runner of looked) {
      if (this.#checks.get(runner.name)?.runner === runner) due.schedule(runner, runner.freshUntil())
    }
    return waits === undefined ? undefined : Promise.all(waits)
  }

  /**
   * Once every check is added (the instance is ready): a group of the user's that counts no check
   * is a mistake, and a selector that picks none is most likely a typo.
   */
  verify (): void {
    const runners = [...this.all()]
    for (const view of this.#views) {
      for (const selector of [...view.include ?? [], ...view.exclude]) {
        const text = selectorText(selector)
        if (text !== undefined && !runners.some((runner) => selects(selector, runner, view.name))) {
          this.#log.warn({ group: view.name, selector: text }, `fastify-health: ${view.label}: "${text}" selects no check`)
        }
      }
      if (view.mustCount && this.members(view.name).length === 0) throw new FST_HEALTH_EMPTY_GROUP(view.name)
    }
  }

  /** Starts the background loops of interval checks, now and for checks added later. */
  start (): void {
    if (this.#stopped) return
    this.#started = true
    for (const runner of this.all()) runner.start()
  }

  /**
   * Stops for good: runs in flight end now with a failed reading that says so, no run starts
   * again, and what every check holds is released. Resolves once every close() has settled.
   */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const runner of this.all()) runner.stop()
    await Promise.all([...this.#checks.values()].map((registered) => this.#release(registered)))
  }

  /**
   * Calls a check's close(), waiting for it at most the check's timeout: one that throws, rejects
   * or hangs is logged, without a secret, and holds nothing up.
   */
  async #release (registered: Registered): Promise<void> {
    const { runner, close } = registered
    if (close === undefined) return
    registered.close = undefined
    const { name, settings: { timeout } } = runner
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<string>((resolve) => { timer = setTimeout(resolve, timeout, `did not finish within ${timeout} ms`) })
    try {
      const problem = await Promise.race([Promise.resolve(close()).then(() => undefined), late])
      if (problem !== undefined) this.#log.warn({ check: name }, `fastify-health: closing check "${name}" ${problem}`)
    } catch (error) {
      this.#log.warn({ check: name }, `fastify-health: closing check "${name}" failed: ${redact(describeThrown(error))}`)
    } finally {
      clearTimeout(timer)
    }
  }
}
