// What every ready-made check shares: its options checked when the factory is called, the round
// trip timed and rated against `warn`/`fail`, and failures told in one line with no secret.
import { performance } from 'node:perf_hooks'
import { describeThrown } from '../engine/normalize.js'
import type { ComponentDetail } from '../engine/types.js'
import { FST_HEALTH_INVALID_CHECK_OPTION, FST_HEALTH_INVALID_CHECK_TARGET } from '../errors.js'
import { redact } from '../redact.js'
import { rateReading, type Thresholds, thresholdsProblem } from '../thresholds.js'

/** Options every ready-made check takes. */
export interface ResponseTimeOptions extends Thresholds {
  /** Round trip in ms at or above which the reading is `warn`. Default: none. */
  warn?: number
  /** Round trip in ms at or above which the reading is `fail`. Default: none. */
  fail?: number
  /** `componentId` of the reading, instead of the one read from the target. */
  componentId?: string
}

/** Throws FST_HEALTH_INVALID_CHECK_TARGET: `factory` was given something it cannot check. */
export function invalidTarget (factory: string, expected: string, got: unknown): never {
  throw new FST_HEALTH_INVALID_CHECK_TARGET(factory, expected, describeKind(got))
}

/** Throws FST_HEALTH_INVALID_CHECK_OPTION for one option of `factory`. */
export function invalidOption (factory: string, option: string, problem: string): never {
  throw new FST_HEALTH_INVALID_CHECK_OPTION(factory, option, problem)
}

/** A value's kind, as an error message names it, without its content (it may hold a secret). */
export function describeKind (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    return name === undefined || name === 'Object' ? 'a plain object' : `an instance of ${name}`
  }
  return typeof value
}

/**
 * Checks a factory's options against the keys it takes (the shared ones always), and returns
 * them with the thresholds validated. A mistake throws FST_HEALTH_INVALID_CHECK_OPTION.
 */
export function checkOptions<T extends ResponseTimeOptions> (factory: string, options: unknown, keys: readonly string[] = []): T {
  if (options === undefined) return {} as T
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return invalidOption(factory, 'options', 'must be an object')
  }
  const record = options as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!['warn', 'fail', 'componentId', ...keys].includes(key)) invalidOption(factory, key, 'is not an option of this check')
  }
  const { warn, fail, componentId } = record
  const problem = thresholdsProblem({ warn, fail })
  if (problem !== undefined) invalidOption(factory, 'warn/fail', problem)
  if (componentId !== undefined && (typeof componentId !== 'string' || componentId === '')) {
    invalidOption(factory, 'componentId', 'must be a non-empty string')
  }
  return record as T
}

/** Milliseconds since `start` (a performance.now() reading), to the hundredth. */
function millisecondsSince (start: number): number {
  return Math.round((performance.now() - start) * 100) / 100
}

/** A passing round trip, rated against the thresholds: `observedValue` in ms. */
export function timedReading (base: ComponentDetail, start: number, thresholds: Thresholds, what = 'round trip'): ComponentDetail {
  const value = millisecondsSince(start)
  return { ...base, observedValue: value, observedUnit: 'ms', ...rateReading(value, thresholds, { what, unit: 'ms', higherIsWorse: true }) }
}

/** A failed reading: the error in one line, with no stack and no credentials. */
export function failedReading (base: ComponentDetail, error: unknown): ComponentDetail {
  return { ...base, status: 'fail', output: oneLine(error) }
}

/** Anything thrown, as one line with no stack, and with credentials cut out (lib/redact.ts). */
export function oneLine (error: unknown): string {
  const aggregate = error instanceof AggregateError && error.errors.length > 0 && (error.message === '' || error.message === undefined)
  // Node's connection errors to several addresses (IPv4 and IPv6) come as an AggregateError
  // with no message of its own: say what the first address answered.
  const text = aggregate ? describeThrown((error as AggregateError).errors[0]) : describeThrown(error)
  return redact(text.replace(/\s+/g, ' ').trim())
}

/** `host:port` (IPv6 in brackets), with `/name` when given: a `componentId` that holds no secret. */
export function serverId (host: string | undefined, port: number | string | undefined, name?: string): string {
  const where = host === undefined || host === '' ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const address = port === undefined || port === '' ? where : `${where}:${String(port)}`
  return name === undefined || name === '' ? address : `${address}/${name}`
}
