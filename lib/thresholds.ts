import type { Status } from './states.js'

/** Levels at which a reading turns `warn` and `fail`; either may be left out. */
export interface Thresholds {
  warn?: number
  fail?: number
}

/** How a reading is described against its thresholds. */
interface Measure {
  /** What was measured, as the output names it: "p99 event loop delay". */
  what: string
  unit: string
  /** true when a larger value is worse (a delay), false when a smaller one is (free space). */
  higherIsWorse: boolean
}

/** A reading's status against its thresholds, with an output saying which one it crossed. */
export function rateReading (value: number, thresholds: Thresholds, measure: Measure): { status: Status, output?: string } {
  const { what, unit, higherIsWorse } = measure
  const crossed = (limit: number | undefined): boolean =>
    limit !== undefined && (higherIsWorse ? value >= limit : value < limit)
  const status = crossed(thresholds.fail) ? 'fail' : crossed(thresholds.warn) ? 'warn' : 'pass'
  if (status === 'pass') return { status }
  const limit = thresholds[status] as number
  const relation = higherIsWorse ? 'at or above' : 'below'
  return { status, output: `${what} ${value} ${unit} is ${relation} the ${status} threshold of ${limit} ${unit}` }
}

/** What is wrong with a `{ warn, fail }` object, or undefined when it is fine. */
export function thresholdsProblem (value: unknown, higherIsWorse = true): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object { warn?, fail? } of numbers'
  const { warn, fail, ...rest } = value as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) return `has an unknown threshold "${unknown}" (expected warn or fail)`
  for (const [level, limit] of [['warn', warn], ['fail', fail]] as const) {
    if (limit !== undefined && !(typeof limit === 'number' && Number.isFinite(limit) && limit >= 0)) {
      return `sets ${level} to ${String(limit)}: expected a finite number from 0`
    }
  }
  if (typeof warn === 'number' && typeof fail === 'number' && (higherIsWorse ? warn > fail : warn < fail)) {
    return `sets warn to ${warn} and fail to ${fail}: warn must come before fail`
  }
  return undefined
}
