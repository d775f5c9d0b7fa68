// underPressureCheck: @fastify/under-pressure's own figures, as it last sampled them, and its
// verdict. Nothing is measured twice: the check reads the plugin's decorations.
import type { ComponentDetail } from '../engine/types.js'
import { invalidTarget } from './common.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

/** What @fastify/under-pressure decorates the instance with. */
export interface UnderPressureTarget {
  memoryUsage: () => { eventLoopDelay: number, rssBytes: number, heapUsed: number, eventLoopUtilized: number }
  isUnderPressure: () => boolean
}

/** The check key autoChecks registers it under. */
export const UNDER_PRESSURE_CHECK = 'underPressure:pressure'

const defaults = {
  /** The output of every entry while the plugin says the instance is under pressure. */
  underPressure: 'under pressure: @fastify/under-pressure answers 503 to the other routes',
  /** Said only with a failing entry: output is left out when passing, as the draft asks. */
  noDelaySample: 'no event loop sample in the last interval'
} as const

/** Whether `target` carries @fastify/under-pressure's decorations. */
export function hasUnderPressure (target: unknown): target is UnderPressureTarget {
  return typeof target === 'object' && target !== null &&
    typeof (target as UnderPressureTarget).memoryUsage === 'function' &&
    typeof (target as UnderPressureTarget).isUnderPressure === 'function'
}

const hundredths = (value: number): number => Math.round(value * 100) / 100

/**
 * A check of the instance's pressure as @fastify/under-pressure sees it (register that plugin
 * first): one entry per figure (`eventLoop:delay` in ms, `eventLoop:utilization` in percent,
 * `memory:heapUsed` and `memory:rss` in bytes, as under-pressure's limits are set), each `fail`
 * while the plugin says the instance is under pressure. Before the plugin's first sample, one
 * `underPressure` entry with no figure. It holds nothing between runs.
 */
export function underPressureCheck (fastify: UnderPressureTarget): ReadyMadeCheck {
  if (!hasUnderPressure(fastify)) {
    invalidTarget('underPressureCheck', 'a Fastify instance with @fastify/under-pressure registered (fastify.memoryUsage and fastify.isUnderPressure)', fastify)
  }
  return readyMade(() => {
    const pressure = fastify.isUnderPressure()
    const base: ComponentDetail = pressure
      ? { componentType: 'system', status: 'fail', output: defaults.underPressure }
      : { componentType: 'system', status: 'pass' }
    const { eventLoopDelay, eventLoopUtilized, heapUsed, rssBytes } = fastify.memoryUsage()
    // Every figure is 0 until the plugin's first sample (sampleInterval after it loaded).
    if (rssBytes === 0) return { ...base, componentId: 'underPressure' }
    return [
      // The plugin reads Infinity when its histogram got no sample in the interval.
      Number.isFinite(eventLoopDelay)
        ? { ...base, componentId: 'eventLoop:delay', observedValue: hundredths(eventLoopDelay), observedUnit: 'ms' }
        : pressure
          ? { ...base, componentId: 'eventLoop:delay', output: `${defaults.underPressure}; ${defaults.noDelaySample}` }
          : { ...base, componentId: 'eventLoop:delay' },
      { ...base, componentId: 'eventLoop:utilization', observedValue: hundredths(eventLoopUtilized * 100), observedUnit: 'percent' },
      { ...base, componentId: 'memory:heapUsed', observedValue: heapUsed, observedUnit: 'bytes' },
      { ...base, componentId: 'memory:rss', observedValue: rssBytes, observedUnit: 'bytes' }
    ]
  })
}
