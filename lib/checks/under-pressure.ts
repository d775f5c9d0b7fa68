// underPressureCheck: @fastify/under-pressure's own figures, as it last sampled them, and its
// verdict. Nothing is measured twice: the check reads the plugin's decorations.
import type { CheckFunction, ComponentDetail } from '../engine/types.js'
import { invalidTarget } from './common.js'

/** What @fastify/under-pressure decorates the instance with. */
export interface UnderPressureTarget {
  memoryUsage: () => { eventLoopDelay: number, rssBytes: number, heapUsed: number, eventLoopUtilized: number }
  isUnderPressure: () => boolean
}

/** The check key autoChecks registers it under. */
export const UNDER_PRESSURE_CHECK = 'underPressure:pressure'

const UNDER_PRESSURE = 'under pressure: @fastify/under-pressure answers 503 to the other routes'

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
 * while the plugin says the instance is under pressure.
 */
export function underPressureCheck (fastify: UnderPressureTarget): CheckFunction {
  if (!hasUnderPressure(fastify)) {
    invalidTarget('underPressureCheck', 'a Fastify instance with @fastify/under-pressure registered (fastify.memoryUsage and fastify.isUnderPressure)', fastify)
  }
  return () => {
    const pressure = fastify.isUnderPressure()
    const base: ComponentDetail = { componentType: 'system', status: pressure ? 'fail' : 'pass', ...(pressure ? { output: UNDER_PRESSURE } : {}) }
    const { eventLoopDelay, eventLoopUtilized, heapUsed, rssBytes } = fastify.memoryUsage()
    // Every figure is 0 until the plugin's first sample (sampleInterval after it loaded).
    if (rssBytes === 0) return { ...base, componentId: 'underPressure', output: pressure ? UNDER_PRESSURE : 'no sample yet' }
    return [
      // The plugin reads Infinity when its histogram got no sample in the interval.
      Number.isFinite(eventLoopDelay)
        ? { ...base, componentId: 'eventLoop:delay', observedValue: hundredths(eventLoopDelay), observedUnit: 'ms' }
        : { ...base, componentId: 'eventLoop:delay', output: `${pressure ? `${UNDER_PRESSURE}; ` : ''}no event loop sample in the last interval` },
      { ...base, componentId: 'eventLoop:utilization', observedValue: hundredths(eventLoopUtilized * 100), observedUnit: 'percent' },
      { ...base, componentId: 'memory:heapUsed', observedValue: heapUsed, observedUnit: 'bytes' },
      { ...base, componentId: 'memory:rss', observedValue: rssBytes, observedUnit: 'bytes' }
    ]
  }
}
