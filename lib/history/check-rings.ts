import type { CheckRun } from '../engine/types.js'
import type { CheckRunner } from '../engine/runner.js'
import { redact } from '../redact.js'
import type { HealthCheckEntry } from '../schema.js'
import { Ring } from './ring.js'
import type { CheckChange, CheckHistory, CheckReading } from './schema.js'
import { NO_STATUS, statusCode, statusOf } from './status-codes.js'

// What one check did: a ring of its readings and a ring of the changes of how it counts. One
// reading is a few numbers written into typed arrays: no object is kept per reading.

const readingColumns = {
  at: Float64Array,
  value: Float64Array,
  duration: Float32Array,
  status: Uint8Array,
  counted: Uint8Array,
  /** The code of its unit in the check's table of units (0: none). */
  unit: Uint8Array
}
const changeColumns = { at: Float64Array, from: Uint8Array, to: Uint8Array }

const defaults = {
  /** Distinct units one check keeps (a check has one or two); readings past them keep no unit. */
  units: 255
}

/** The value and unit of a reading: the first entry with a finite numeric observedValue. */
function observed (entries: readonly HealthCheckEntry[]): HealthCheckEntry | undefined {
  for (const entry of entries) {
    if (typeof entry.observedValue === 'number' && Number.isFinite(entry.observedValue)) return entry
  }
  return undefined
}

/**
 * The output a reading came with, as the answers quote it: the first entry's that has one,
 * redacted (again: the engine redacts every output; a change is rare, and a secret must never stay).
 */
export function outputOf (entries: readonly HealthCheckEntry[]): string | undefined {
  for (const entry of entries) if (entry.output !== undefined) return redact(entry.output)
  return undefined
}

const iso = (at: number): string => new Date(at).toISOString()

export class CheckRings {
  readonly name: string
  /** The check it records: another check under the same name means this one was removed. */
  readonly owner: CheckRunner
  readonly readings: Ring<typeof readingColumns>
  readonly changes: Ring<typeof changeColumns>
  /** The output of each change, by the change's slot. */
  readonly #outputs: Array<string | undefined> = []
  /** The units seen, by code; '' (code 0) is none. */
  readonly #units: string[] = ['']

  constructor (name: string, owner: CheckRunner, sizes: { readings: number, changes: number }) {
    this.name = name
    this.owner = owner
    this.readings = new Ring(sizes.readings, readingColumns)
    this.changes = new Ring(sizes.changes, changeColumns)
  }

  record (run: CheckRun): void {
    const slot = this.readings.push()
    const { at, value, duration, status, counted, unit } = this.readings.columns
    at[slot] = run.at
    duration[slot] = run.durationMs
    status[slot] = statusCode(run.status)
    counted[slot] = statusCode(run.counted)
    const entry = observed(run.entries)
    value[slot] = entry === undefined ? NaN : entry.observedValue as number
    unit[slot] = entry?.observedUnit === undefined ? 0 : this.#unitCode(entry.observedUnit)
    if (run.previous === run.counted) return
    const change = this.changes.push()
    const columns = this.changes.columns
    columns.at[change] = run.at
    columns.from[change] = run.previous === undefined ? NO_STATUS : statusCode(run.previous)
    columns.to[change] = statusCode(run.counted)
    this.#outputs[change] = outputOf(run.entries)
  }

  /** The latest reading's slot; undefined before the first. */
  get latest (): number | undefined {
    const { length } = this.readings
    return length === 0 ? undefined : this.readings.slot(length - 1)
  }

  /** When it started counting as it does now: its latest change. */
  get since (): number | undefined {
    const { length } = this.changes
    return length === 0 ? undefined : this.changes.columns.at[this.changes.slot(length - 1)]
  }

  /** The changes (not the first reading) since the oldest reading kept: how often it flapped in the window. */
  changesInWindow (): number {
    if (this.readings.length === 0) return 0
    const start = this.readings.columns.at[this.readings.slot(0)] as number
    const { at, from } = this.changes.columns
    let count = 0
    for (let index = this.changes.length - 1; index >= 0; index--) {
      const slot = this.changes.slot(index)
      if ((at[slot] as number) < start) break
      if (from[slot] !== NO_STATUS) count++
    }
    return count
  }

  unitAt (slot: number): string | undefined {
    const code = this.readings.columns.unit[slot] as number
    return code === 0 ? undefined : this.#units[code]
  }

  document (): CheckHistory {
    const readings: CheckReading[] = []
    const { at, value, duration, status, counted } = this.readings.columns
    for (let index = 0; index < this.readings.length; index++) {
      const slot = this.readings.slot(index)
      const reading: CheckReading = { time: iso(at[slot] as number), status: statusOf(status[slot]), counted: statusOf(counted[slot]), durationMs: duration[slot] as number }
      if (!Number.isNaN(value[slot])) reading.observedValue = value[slot]
      const unit = this.unitAt(slot)
      if (unit !== undefined) reading.observedUnit = unit
      readings.push(reading)
    }
    const changes: CheckChange[] = []
    const columns = this.changes.columns
    for (let index = 0; index < this.changes.length; index++) {
      const slot = this.changes.slot(index)
      const from = columns.from[slot]
      const change: CheckChange = { time: iso(columns.at[slot] as number), from: from === NO_STATUS ? null : statusOf(from), to: statusOf(columns.to[slot]) }
      const output = this.#outputs[slot]
      if (output !== undefined) change.output = output
      changes.push(change)
    }
    const latest = this.latest
    const since = this.since
    return {
      name: this.name,
      status: latest === undefined ? null : statusOf(counted[latest]),
      since: since === undefined ? null : iso(since),
      size: { readings: this.readings.size, changes: this.changes.size },
      readings,
      changes
    }
  }

  #unitCode (unit: string): number {
    const code = this.#units.indexOf(unit)
    if (code !== -1) return code
    if (this.#units.length > defaults.units) return 0
    return this.#units.push(unit) - 1
  }
}
