import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { FST_HEALTH_DUPLICATE_CHECK, FST_HEALTH_INVALID_CHECK } from '../errors.js'
import { millisecondsProblem } from '../duration.js'
import { CheckRunner, type RunnerSettings } from './runner.js'
import type { CheckDefinition, CheckFunction, CheckOptions, ProbeName } from './types.js'

export const CHECK_DEFAULTS = { timeout: 2000, critical: true, cacheFor: 1000 } as const
const probeNames = new Set<unknown>(['live', 'ready'])

// `componentName:measurementName`: either part may be left out, neither may hold a colon.
const CHECK_NAME = /^[^:]*:?[^:]*$/

function invalid (name: string, problem: string): never {
  throw new FST_HEALTH_INVALID_CHECK(name, problem)
}

function milliseconds (name: string, option: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined
  const problem = millisecondsProblem(value, min)
  if (problem !== undefined) invalid(name, `option "${option}" ${problem}`)
  return value as number
}

function settingsOf (name: string, options: Record<string, unknown>): RunnerSettings {
  for (const key of Object.keys(options)) {
    if (!['timeout', 'critical', 'cacheFor', 'interval', 'probes', 'check'].includes(key)) {
      invalid(name, `has an unknown option "${key}"`)
    }
  }
  const { critical, probes } = options
  if (critical !== undefined && typeof critical !== 'boolean') invalid(name, 'option "critical" must be a boolean')
  if (probes !== undefined && !(Array.isArray(probes) && probes.every((p) => probeNames.has(p)))) {
    invalid(name, 'option "probes" must be an array of "live" and "ready"')
  }
  return {
    timeout: milliseconds(name, 'timeout', options.timeout, 1) ?? CHECK_DEFAULTS.timeout,
    critical: (critical as boolean | undefined) ?? CHECK_DEFAULTS.critical,
    cacheFor: milliseconds(name, 'cacheFor', options.cacheFor, 0) ?? CHECK_DEFAULTS.cacheFor,
    interval: milliseconds(name, 'interval', options.interval, 1) ?? 0,
    probes: new Set((probes as ProbeName[] | undefined) ?? ['ready'])
  }
}

/** The registered checks, in registration order. */
export class CheckRegistry {
  readonly #runners = new Map<string, CheckRunner>()
  readonly #onOutcome: () => void
  readonly #log: FastifyBaseLogger
  #started = false
  /**
   * Per view (its `counts` function): until when every reading it counts is fresh, so that a
   * request before then skips the loop over the checks. Forgotten on any new reading or check.
   */
  readonly #freshUntil = new Map<(runner: CheckRunner) => boolean, number>()

  constructor (onOutcome: () => void, log: FastifyBaseLogger) {
    this.#log = log
    this.#onOutcome = () => {
      this.#freshUntil.clear()
      onOutcome()
    }
  }

  get size (): number {
    return this.#runners.size
  }

  runners (): IterableIterator<CheckRunner> {
    return this.#runners.values()
  }

  /** Checks the name and options up front; a mistake throws FST_HEALTH_INVALID_CHECK. */
  add (name: unknown, check: unknown, options: unknown = {}): void {
    if (typeof name !== 'string' || name === '' || name === ':' || !CHECK_NAME.test(name)) {
      invalid(String(name), 'has a bad name: expected "componentName:measurementName", either part optional, one colon at most')
    }
    if (this.#runners.has(name)) throw new FST_HEALTH_DUPLICATE_CHECK(name)
    if (typeof check !== 'function') invalid(name, 'is not a function')
    if (typeof options !== 'object' || options === null || Array.isArray(options)) invalid(name, 'has options that are not an object')
    const runner = new CheckRunner(name, check as CheckFunction, settingsOf(name, options as Record<string, unknown>), this.#onOutcome, this.#log)
    this.#runners.set(name, runner)
    this.#freshUntil.clear()
    if (this.#started) runner.start()
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
   * Starts what the given checks need and returns what must be awaited before answering,
   * or undefined when every reading can be served now (the common, allocation-free case).
   */
  refresh (counts: (runner: CheckRunner) => boolean): Promise<unknown> | undefined {
    if (this.#runners.size === 0) return undefined
    const now = performance.now()
    if (now < (this.#freshUntil.get(counts) ?? -Infinity)) return undefined
    let waits: Array<Promise<void>> | undefined
    let freshUntil = Infinity
    for (const runner of this.#runners.values()) {
      if (!counts(runner)) continue
      const wait = runner.refresh(now)
      if (wait !== undefined) (waits ??= []).push(wait)
      freshUntil = Math.min(freshUntil, runner.freshUntil())
    }
    this.#freshUntil.set(counts, freshUntil)
    return waits === undefined ? undefined : Promise.all(waits)
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

export type { CheckOptions }
