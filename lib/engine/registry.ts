import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { FST_HEALTH_DUPLICATE_CHECK, FST_HEALTH_EMPTY_GROUP, FST_HEALTH_INVALID_CHECK } from '../errors.js'
import { isCheckKey } from '../formats.js'
import { boolean, duration, firstMistake, probeList, type Rule, tagList } from '../rules.js'
import { countsCheck, defaultProbes, type ResolvedView, selectorText, selects } from '../views.js'
import { Status } from '../states.js'
import { DueQueue } from './due-queue.js'
import { CheckRunner, type RunnerEvents, type RunnerSettings } from './runner.js'
import type { CheckDefinition, CheckFunction, CheckOptions, ProbeName } from './types.js'

/** The defaults of the check options (see CheckOptions). */
export const CHECK_DEFAULTS = { timeout: 2000, critical: true, cacheFor: 1000, failureThreshold: 1, successThreshold: 1 } as const

/** A number of readings in a row: a whole number from 1. */
const readingCount: Rule = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'must be a positive integer (a number of readings in a row)'

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
  // The function itself, when the options come as { check, ...options }: checked on its own.
  check: () => undefined
}

function invalid (name: string, problem: string): never {
  throw new FST_HEALTH_INVALID_CHECK(name, problem)
}

function settingsOf (name: string, options: Record<string, unknown>): RunnerSettings {
  const mistake = firstMistake(options, checkRules)
  if (mistake !== undefined) {
    invalid(name, mistake.problem === undefined ? `has an unknown option "${mistake.key}"` : `option "${mistake.key}" ${mistake.problem}`)
  }
  const given = options as CheckOptions
  return {
    timeout: given.timeout ?? CHECK_DEFAULTS.timeout,
    critical: given.critical ?? CHECK_DEFAULTS.critical,
    cacheFor: given.cacheFor ?? CHECK_DEFAULTS.cacheFor,
    interval: given.interval ?? 0,
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
class Members {
  readonly runners: CheckRunner[] = []
  readonly due = new DueQueue<CheckRunner>()
  warn = 0
  fail = 0

  /** A check's standing moved from `previous` to `current` (undefined: no reading, or gone). */
  recount (previous: Status | undefined, current: Status | undefined): void {
    if (previous === Status.WARN) this.warn--
    else if (previous === Status.FAIL) this.fail--
    if (current === Status.WARN) this.warn++
    else if (current === Status.FAIL) this.fail++
  }
}

/**
 * The registered checks, in registration order, and which of them each view counts. Everything a
 * request needs is kept up to date as readings arrive, so that its cost does not grow with the
 * number of checks: the status of each view (a tally) and the checks due for a look (a queue).
 */
export class CheckRegistry {
  readonly #runners = new Map<string, CheckRunner>()
  readonly #views: readonly ResolvedView[]
  readonly #members: Map<string, Members>
  /** The views that count each check. */
  readonly #countedIn = new Map<CheckRunner, Members[]>()
  readonly #log: FastifyBaseLogger
  readonly #events: RunnerEvents
  readonly #changed: (check: string) => void
  #started = false

  /**
   * `changed` is called on every new reading and removal: the answers must be rebuilt, and the
   * tallies already say their statuses. `ran` hears of every reading first: how the check counted
   * before it, and the run's duration.
   */
  constructor (
    changed: (check: string) => void, log: FastifyBaseLogger, views: readonly ResolvedView[],
    ran: (runner: CheckRunner, previous: Status | undefined, ms: number) => void
  ) {
    this.#log = log
    this.#views = views
    this.#members = new Map(views.map((view) => [view.name, new Members()]))
    this.#events = {
      reading: (runner, previous, ms) => {
        const current = runner.counted
        const freshUntil = runner.freshUntil()
        for (const members of this.#countedIn.get(runner) as Members[]) {
          members.recount(previous, current)
          members.due.schedule(runner, freshUntil)
        }
        ran(runner, previous, ms)
        changed(runner.name)
      },
      due: (runner) => {
        const freshUntil = runner.freshUntil()
        for (const members of this.#countedIn.get(runner) as Members[]) members.due.schedule(runner, freshUntil)
      }
    }
    this.#changed = changed
  }

  has (name: string): boolean {
    return this.#runners.has(name)
  }

  get (name: string): CheckRunner | undefined {
    return this.#runners.get(name)
  }

  /** Every check, in registration order. */
  all (): IterableIterator<CheckRunner> {
    return this.#runners.values()
  }

  /** The checks a view counts (a view of the options). */
  members (view: string): readonly CheckRunner[] {
    return (this.#members.get(view) as Members).runners
  }

  /** How many checks of a view count as warn and as fail now. */
  tally (view: string): Tally {
    return this.#members.get(view) as Members
  }

  /** Checks the name and options up front; a mistake throws FST_HEALTH_INVALID_CHECK. */
  add (name: unknown, check: unknown, options: unknown = {}): void {
    if (!isCheckKey(name)) {
      invalid(String(name), 'has a bad name: expected "componentName:measurementName", either part optional, one colon at most')
    }
    if (this.has(name)) throw new FST_HEALTH_DUPLICATE_CHECK(name)
    if (typeof check !== 'function') invalid(name, 'is not a function')
    if (typeof options !== 'object' || options === null || Array.isArray(options)) invalid(name, 'has options that are not an object')
    const runner = new CheckRunner(name, check as CheckFunction, settingsOf(name, options as Record<string, unknown>), this.#events, this.#log)
    this.#runners.set(name, runner)
    const countedIn: Members[] = []
    for (const view of this.#views) {
      if (!countsCheck(view, runner)) continue
      const members = this.#members.get(view.name) as Members
      members.runners.push(runner)
      // No reading yet: the next request runs it.
      members.due.schedule(runner, -Infinity)
      countedIn.push(members)
    }
    this.#countedIn.set(runner, countedIn)
    if (this.#started) runner.start()
  }

  /**
   * Takes a check out: its loop stopped, a run in flight aborted and its result ignored, and the
   * change announced. False, changing nothing, when no check has that name.
   */
  remove (name: string): boolean {
    const runner = this.#runners.get(name)
    if (runner === undefined) return false
    this.#runners.delete(name)
    for (const members of this.#countedIn.get(runner) as Members[]) {
      members.runners.splice(members.runners.indexOf(runner), 1)
      members.due.forget(runner)
      members.recount(runner.counted, undefined)
    }
    this.#countedIn.delete(runner)
    runner.remove()
    this.#changed(name)
    return true
  }

  /** Registers `{ name: fn | { check: fn, ...options } }`, the `checks` option's form. */
  addAll (checks: Record<string, CheckFunction | CheckDefinition>): void {
    for (const [name, definition] of Object.entries(checks)) {
      if (typeof definition === 'function') this.add(name, definition)
      else if (typeof definition === 'object' && definition !== null) this.add(name, definition.check, definition)
      else invalid(name, 'must be a function or { check: function, ...options }')
    }
  }

  /**
   * Starts what the checks a view counts need and returns what must be awaited before answering,
   * or undefined when every reading can be served now (the common, allocation-free case). Visits
   * only the checks due for a look: none, until the first of them is.
   */
  refresh (view: string): Promise<unknown> | undefined {
    const { runners, due } = this.#members.get(view) as Members
    if (runners.length === 0) return undefined
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
    for (const runner of looked) due.schedule(runner, runner.freshUntil())
    return waits === undefined ? undefined : Promise.all(waits)
  }

  /**
   * Once every check is added (the instance is ready): a group of the user's that counts no check
   * is a mistake, and a selector that picks none is most likely a typo.
   */
  verify (): void {
    const runners = [...this.#runners.values()]
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
    this.#started = true
    for (const runner of this.#runners.values()) runner.start()
  }

  stop (): void {
    this.#started = false
    for (const runner of this.#runners.values()) runner.stop()
  }
}
