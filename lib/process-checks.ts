import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import type { ComponentDetail, CheckFunction, CheckOptions, ProbeName } from './engine/types.js'

/** Levels at which a reading turns `warn` and `fail`; either may be left out. */
export interface Thresholds {
  warn?: number
  fail?: number
}

export interface ProcessChecksOptions {
  /** Milliseconds between readings: the window each reading covers. Default 5000. */
  interval?: number
  /** Default true: an overloaded process stops being ready (load shedding). */
  critical?: boolean
  /** Default `['ready']`. */
  probes?: ProbeName[]
  /** `uptime`, seconds; thresholds are minimums (a process that keeps restarting). Default on, no thresholds. */
  uptime?: boolean | Thresholds
  /** `eventloop:delay`, p99 in ms over the window. Default warn 100, fail 1000. */
  eventLoopDelay?: boolean | Thresholds
  /** `eventloop:utilization`, percent over the window. Default warn 90. */
  eventLoopUtilization?: boolean | Thresholds
  /** `memory:utilization`, MiB. Default heap used: warn at 85% and fail at 95% of V8's heap limit. */
  memory?: boolean | { heapUsed?: Thresholds, rss?: Thresholds }
}

const MiB = 1024 * 1024
const round = (value: number): number => Math.round(value * 100) / 100

/** The reading's status: `over` true when larger is worse, false when smaller is worse. */
function judge (value: number, thresholds: Thresholds, over: boolean, what: string, unit: string): ComponentDetail {
  const crossed = (limit: number | undefined): boolean => limit !== undefined && (over ? value >= limit : value < limit)
  const status = crossed(thresholds.fail) ? 'fail' : crossed(thresholds.warn) ? 'warn' : 'pass'
  if (status === 'pass') return { status }
  const limit = thresholds[status] as number
  return { status, output: `${what} ${value} ${unit} is ${over ? 'at or above' : 'below'} the ${status} threshold of ${limit} ${unit}` }
}

/**
 * Judges event loop readings, but the first: its window runs from registration to the first
 * reading, start-up time when the loop is always busy, and would report a healthy service as
 * overloaded until the second reading.
 */
function afterStartUp (): (value: number, thresholds: Thresholds, what: string, unit: string) => ComponentDetail {
  let first = true
  return (value, thresholds, what, unit) => {
    if (!first) return judge(value, thresholds, true, what, unit)
    first = false
    return { status: 'pass', output: `${what} over start-up, not judged` }
  }
}

const pick = <T extends object>(setting: boolean | T | undefined, defaults: T): T | undefined =>
  setting === false ? undefined : setting === true || setting === undefined ? defaults : setting

export interface ProcessChecks {
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
    interval: options.interval ?? 5000, critical: options.critical ?? true, probes: options.probes ?? ['ready']
  }
  const checks: ProcessChecks['checks'] = []
  const disposers: Array<() => void> = []
  const system = { componentType: 'system' }

  const uptime = pick(options.uptime, {})
  if (uptime !== undefined) {
    checks.push(['uptime', () => {
      const value = Math.round(process.uptime())
      return { ...system, observedValue: value, observedUnit: 's', ...judge(value, uptime, false, 'uptime', 's') }
    }, checkOptions])
  }

  const delay = pick(options.eventLoopDelay, { warn: 100, fail: 1000 })
  if (delay !== undefined) {
    const histogram = monitor({ resolution: 10 })
    histogram.enable()
    disposers.push(() => histogram.disable())
    const settled = afterStartUp()
    checks.push(['eventloop:delay', () => {
      const value = round(histogram.percentile(99) / 1e6)
      histogram.reset()
      return { ...system, observedValue: value, observedUnit: 'ms', ...settled(value, delay, 'p99 event loop delay', 'ms') }
    }, checkOptions])
  }

  const utilization = pick(options.eventLoopUtilization, { warn: 90 })
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

  const heapLimit = getHeapStatistics().heap_size_limit / MiB
  const memory = pick(options.memory, { heapUsed: { warn: round(heapLimit * 0.85), fail: round(heapLimit * 0.95) } })
  if (memory !== undefined) {
    checks.push(['memory:utilization', () => {
      const usage = process.memoryUsage()
      const reading = (componentId: string, bytes: number, thresholds: Thresholds = {}): ComponentDetail => {
        const value = round(bytes / MiB)
        return { componentId, ...system, observedValue: value, observedUnit: 'MiB', ...judge(value, thresholds, true, componentId, 'MiB') }
      }
      return [reading('heapUsed', usage.heapUsed, memory.heapUsed), reading('rss', usage.rss, memory.rss)]
    }, checkOptions])
  }

  return { checks, dispose: () => { for (const dispose of disposers) dispose() } }
}
