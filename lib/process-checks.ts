import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import type { ComponentDetail, CheckFunction, CheckOptions, ProbeName } from './engine/types.js'
import { duration, firstMistake, isPlainObject, probeList, type Rule } from './rules.js'
import { rateReading, type Thresholds, thresholdsProblem } from './thresholds.js'
import { defaultProbes } from './views.js'

export type { Thresholds }

export interface ProcessChecksOptions {
  /**
   * Milliseconds between readings: the window each reading covers.
   * @default 5000
   */
  interval?: number
  /**
   * An overloaded process stops being ready (load shedding).
   * @default true
   */
  critical?: boolean
  /**
   * The probes the process checks count for.
   * @default the readiness probe only
   */
  probes?: ProbeName[]
  /**
   * `uptime`, seconds; thresholds are minimums (a process that keeps restarting).
   * @default true (no thresholds)
   */
  uptime?: boolean | Thresholds
  /**
   * `eventloop:delay`, p99 in ms over the window.
   * @default { warn: 100, fail: 1000 }
   */
  eventLoopDelay?: boolean | Thresholds
  /**
   * `eventloop:utilization`, percent over the window.
   * @default { warn: 90 }
   */
  eventLoopUtilization?: boolean | Thresholds
  /**
   * `memory:utilization`, MiB.
   * @default heap used: warn at 85% and fail at 95% of V8's heap limit
   */
  memory?: boolean | { heapUsed?: Thresholds, rss?: Thresholds }
}

const MiB = 1024 * 1024
const round = (value: number): number => Math.round(value * 100) / 100
const heapLimit = (): number => getHeapStatistics().heap_size_limit / MiB

const defaults = {
  interval: 5000,
  critical: true,
  uptime: {},
  eventLoopDelay: { warn: 100, fail: 1000 },
  eventLoopUtilization: { warn: 90 },
  /** Fractions of V8's heap limit. */
  heapUsed: { warn: 0.85, fail: 0.95 },
  /** The delay histogram's sampling period, in ms. */
  delayResolution: 10,
  /** The percentile of the delays a reading reports. */
  delayPercentile: 99
} as const

const memoryDefaults = (): { heapUsed: Thresholds } =>
  ({ heapUsed: { warn: round(heapLimit() * defaults.heapUsed.warn), fail: round(heapLimit() * defaults.heapUsed.fail) } })

/**
 * A setting of thresholds: a boolean, or `{ warn, fail }` by the shared rule (finite numbers
 * from 0, warn before fail); `higherIsWorse` false for a minimum (uptime).
 */
const thresholdsSetting = (key: string, higherIsWorse = true): Rule => (value) => {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return `sets ${key} to something other than a boolean or { warn, fail } numbers`
  const problem = thresholdsProblem(value, higherIsWorse)
  return problem === undefined ? undefined : `sets ${key} to a { warn, fail } object that ${problem}`
}

const MEMORY_MISTAKE = 'sets memory to something other than a boolean or { heapUsed, rss } thresholds'
const memoryPart = (key: string): Rule => (value) => isPlainObject(value) ? thresholdsSetting(`memory.${key}`)(value) : MEMORY_MISTAKE

const settingRules: Record<keyof ProcessChecksOptions, Rule> = {
  interval: (value) => duration(1)(value) === undefined ? undefined : 'sets interval to something other than milliseconds from 1',
  critical: (value) => typeof value === 'boolean' ? undefined : 'sets critical to something other than a boolean',
  probes: (value) => probeList(value)?.replace(/^must be/, 'sets probes to something other than'),
  uptime: thresholdsSetting('uptime', false),
  eventLoopDelay: thresholdsSetting('eventLoopDelay'),
  eventLoopUtilization: thresholdsSetting('eventLoopUtilization'),
  memory: (value) => {
    if (typeof value === 'boolean') return undefined
    if (!isPlainObject(value)) return MEMORY_MISTAKE
    const mistake = firstMistake(value, { heapUsed: memoryPart('heapUsed'), rss: memoryPart('rss') })
    return mistake === undefined ? undefined : mistake.problem ?? MEMORY_MISTAKE
  }
}

/** What is wrong with the `process` option, or undefined when it is fine. */
export function processChecksProblem (value: unknown): string | undefined {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return 'must be a boolean or an object of process check settings'
  for (const [key, setting] of Object.entries(value)) {
    if (setting === undefined) continue
    if (!Object.hasOwn(settingRules, key)) return `has an unknown setting "${key}"`
    const problem = settingRules[key as keyof ProcessChecksOptions](setting)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** The reading's status: `higherIsWorse` true for a delay, false for an uptime. */
const rate = (value: number, limits: Thresholds, higherIsWorse: boolean, what: string, unit: string): ComponentDetail =>
  rateReading(value, limits, { what, unit, higherIsWorse })

/**
 * Judges event loop readings, but the first: its window runs from registration to the first
 * reading, start-up time when the loop is always busy, and would report a healthy service as
 * overloaded until the second reading.
 */
function afterStartUp (): (value: number, thresholds: Thresholds, what: string, unit: string) => ComponentDetail {
  let first = true
  return (value, thresholds, what, unit) => {
    if (!first) return rate(value, thresholds, true, what, unit)
    first = false
    // Passing, so with no output (the draft's SHOULD); the value is still reported.
    return { status: 'pass' }
  }
}

const pick = <T extends object>(setting: boolean | T | undefined, defaults: T): T | undefined =>
  setting === false ? undefined : setting === true || setting === undefined ? defaults : setting

interface ProcessChecks {
  checks: Array<[name: string, check: CheckFunction, options: CheckOptions]>
  /** Stops sampling; called when the instance closes. */
  dispose: () => void
}

/**
 * The built-in process checks, in the draft's vocabulary. Sampling runs in Node itself
 * (an event loop delay histogram and utilization counters), and each check runs on its own
 * interval, so a request only reads the last reading.
 */
export function createProcessChecks (
  options: ProcessChecksOptions,
  // The sampler's factory; a test passes its own to see it enabled and disabled.
  monitor: typeof monitorEventLoopDelay = monitorEventLoopDelay
): ProcessChecks {
  const checkOptions: CheckOptions = {
    interval: options.interval ?? defaults.interval, critical: options.critical ?? defaults.critical, probes: options.probes ?? defaultProbes
  }
  const checks: ProcessChecks['checks'] = []
  const disposers: Array<() => void> = []
  const system = { componentType: 'system' }

  const uptime = pick(options.uptime, defaults.uptime)
  if (uptime !== undefined) {
    checks.push(['uptime', () => {
      const value = Math.round(process.uptime())
      return { ...system, observedValue: value, observedUnit: 's', ...rate(value, uptime, false, 'uptime', 's') }
    }, checkOptions])
  }

  const delay = pick(options.eventLoopDelay, defaults.eventLoopDelay)
  if (delay !== undefined) {
    const histogram = monitor({ resolution: defaults.delayResolution })
    histogram.enable()
    disposers.push(() => histogram.disable())
    const settled = afterStartUp()
    checks.push(['eventloop:delay', () => {
      const value = round(histogram.percentile(defaults.delayPercentile) / 1e6)
      histogram.reset()
      return { ...system, observedValue: value, observedUnit: 'ms', ...settled(value, delay, 'p99 event loop delay', 'ms') }
    }, checkOptions])
  }

  const utilization = pick(options.eventLoopUtilization, defaults.eventLoopUtilization)
  if (utilization !== undefined) {
    let last = performance.eventLoopUtilization()
    const settled = afterStartUp()
    checks.push(['eventloop:utilization', () => {
      const now = performance.eventLoopUtilization()
      const value = round(performance.eventLoopUtilization(now, last).utilization * 100)
      last = now
      return { ...system, observedValue: value, observedUnit: 'percent', ...settled(value, utilization, 'event loop utilization', 'percent') }
    }, checkOptions])
  }

  const memory = pick(options.memory, memoryDefaults())
  if (memory !== undefined) {
    checks.push(['memory:utilization', () => {
      const usage = process.memoryUsage()
      const reading = (componentId: string, bytes: number, thresholds: Thresholds = {}): ComponentDetail => {
        const value = round(bytes / MiB)
        return { componentId, ...system, observedValue: value, observedUnit: 'MiB', ...rate(value, thresholds, true, componentId, 'MiB') }
      }
      return [reading('heapUsed', usage.heapUsed, memory.heapUsed), reading('rss', usage.rss, memory.rss)]
    }, checkOptions])
  }

  return { checks, dispose: () => { for (const dispose of disposers) dispose() } }
}
