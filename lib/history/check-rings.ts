import type { CheckRun } from '../engine/types.js'
import { isoDateTime } from '../formats.js'
import { redact } from '../redact.js'
import type { HealthCheckEntry } from '../schema.js'
import type { Status } from '../states.js'
import { Ring } from './ring.js'
import type { CheckChange, CheckHistory, CheckReading } from './schema.js'
import { NO_STATUS, statusCode, statusOf } from './status-codes.js'

// What one check did: a ring of its readings and a ring of the changes of how it counts. One
// reading is a few numbers written into one row of bytes: no object is kept per reading.

/** A reading's row (ring.ts): byte offsets of its fields; the unit is a code in the check's table of units (0: none). */
const READING = { bytes: 23, at: 0, value: 8, duration: 16, status: 20, counted: 21, unit: 22 } as const
/** A change's row. */
const CHANGE = { bytes: 10, at: 0, from: 8, to: 9 } as const

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

/** One reading as a check's rings keep it, its statuses as codes (status-codes.ts). */
export interface ReadingRow {
  /** Date.now() when it arrived. */
  at: number
  /** NaN: none. */
  value: number
  unit: string | undefined
  durationMs: number
  status: number
  counted: number
  /** How the check counted before it; NO_STATUS for its first reading. */
  previous: number
  /** Its output, kept when how the check counts changed (undefined otherwise). */
  output: string | undefined
}

/** A row to fill. */
export const emptyRow = (): ReadingRow => ({ at: 0, value: NaN, unit: undefined, durationMs: 0, status: 0, counted: 0, previous: 0, output: undefined })

/** Fills `row` (a new one by default) with what the rings keep of `run`. */
export function rowOf (run: CheckRun, row = emptyRow()): ReadingRow {
  const entry = observed(run.entries)
  row.at = run.at
  row.value = entry === undefined ? NaN : entry.observedValue as number
  row.unit = entry?.observedUnit
  row.durationMs = run.durationMs
  row.status = statusCode(run.status)
  row.counted = statusCode(run.counted)
  row.previous = run.previous === undefined ? NO_STATUS : statusCode(run.previous)
  row.output = run.previous === run.counted ? undefined : outputOf(run.entries)
  return row
}

/**
 * The output a reading came with, as the answers quote it: the first entry's that has one,
 * redacted (again: the engine redacts every output; a change is rare, and a secret must never stay).
 */
export function outputOf (entries: readonly HealthCheckEntry[]): string | undefined {
  for (const entry of entries) if (entry.output !== undefined) return redact(entry.output)
  return undefined
}

export class CheckRings {
  readonly name: string
  readonly readings: Ring
  readonly changes: Ring
  /** The output of each change, by the change's slot (its row / the stride). */
  readonly #outputs: Array<string | undefined> = []
  /** The units seen, by code; '' (code 0) is none. */
  readonly #units: string[] = ['']
  /** The latest reading's unit and its code: most readings repeat it, and the table is one more cold object to look in. */
  #unit = ''
  #unitCodeLast = 0

  constructor (name: string, sizes: { readings: number, changes: number }) {
    this.name = name
    this.readings = new Ring(sizes.readings, READING.bytes)
    this.changes = new Ring(sizes.changes, CHANGE.bytes)
  }

  record (reading: ReadingRow): void {
    const readings = this.readings
    const row = readings.push()
    const view = readings.view
    view.setFloat64(row + READING.at, reading.at, true)
    view.setFloat64(row + READING.value, reading.value, true)
    view.setFloat32(row + READING.duration, reading.durationMs, true)
    view.setUint8(row + READING.status, reading.status)
    view.setUint8(row + READING.counted, reading.counted)
    view.setUint8(row + READING.unit, reading.unit === undefined ? 0 : this.#unitCode(reading.unit))
    if (reading.previous === reading.counted) return
    const changes = this.changes
    const change = changes.push()
    const log = changes.view
    log.setFloat64(change + CHANGE.at, reading.at, true)
    log.setUint8(change + CHANGE.from, reading.previous)
    log.setUint8(change + CHANGE.to, reading.counted)
    this.#outputs[change / changes.stride] = reading.output
  }

  /** The latest reading's row; undefined before the first. */
  get latest (): number | undefined {
    const { length } = this.readings
    return length === 0 ? undefined : this.readings.row(length - 1)
  }

  /** When it started counting as it does now: its latest change. */
  get since (): number | undefined {
    const { length } = this.changes
    return length === 0 ? undefined : this.changes.view.getFloat64(this.changes.row(length - 1) + CHANGE.at, true)
  }

  /** When the `index`-th reading kept (the oldest first) was taken. */
  readingAt (index: number): number {
    return this.readings.view.getFloat64(this.readings.row(index) + READING.at, true)
  }

  /** The `index`-th reading kept (the oldest first): its observed value (NaN: none) and how it counted. */
  reading (index: number): { value: number, counted: Status } {
    const row = this.readings.row(index)
    return { value: this.readings.view.getFloat64(row + READING.value, true), counted: statusOf(this.readings.view.getUint8(row + READING.counted)) }
  }

  /** The changes (not the first reading) since the oldest reading kept: how often it flapped in the window. */
  changesInWindow (): number {
    if (this.readings.length === 0) return 0
    const start = this.readingAt(0)
    const { view } = this.changes
    let count = 0
    for (let index = this.changes.length - 1; index >= 0; index--) {
      const row = this.changes.row(index)
      if (view.getFloat64(row + CHANGE.at, true) < start) break
      if (view.getUint8(row + CHANGE.from) !== NO_STATUS) count++
    }
    return count
  }

  /** The unit of the reading in `row`, if it had one. */
  unitAt (row: number): string | undefined {
    const code = this.readings.view.getUint8(row + READING.unit)
    return code === 0 ? undefined : this.#units[code]
  }

  document (): CheckHistory {
    const readings: CheckReading[] = []
    const { view } = this.readings
    for (let index = 0; index < this.readings.length; index++) {
      const row = this.readings.row(index)
      const reading: CheckReading = {
        time: isoDateTime(view.getFloat64(row + READING.at, true)),
        status: statusOf(view.getUint8(row + READING.status)),
        counted: statusOf(view.getUint8(row + READING.counted)),
        durationMs: view.getFloat32(row + READING.duration, true)
      }
      const value = view.getFloat64(row + READING.value, true)
      if (!Number.isNaN(value)) reading.observedValue = value
      const unit = this.unitAt(row)
      if (unit !== undefined) reading.observedUnit = unit
      readings.push(reading)
    }
    const changes: CheckChange[] = []
    const ring = this.changes
    for (let index = 0; index < ring.length; index++) {
      const row = ring.row(index)
      const from = ring.view.getUint8(row + CHANGE.from)
      const change: CheckChange = { time: isoDateTime(ring.view.getFloat64(row + CHANGE.at, true)), from: from === NO_STATUS ? null : statusOf(from), to: statusOf(ring.view.getUint8(row + CHANGE.to)) }
      const output = this.#outputs[row / ring.stride]
      if (output !== undefined) change.output = output
      changes.push(change)
    }
    const latest = this.latest
    const since = this.since
    return {
      name: this.name,
      status: latest === undefined ? null : statusOf(view.getUint8(latest + READING.counted)),
      since: since === undefined ? null : isoDateTime(since),
      size: { readings: this.readings.size, changes: this.changes.size },
      readings,
      changes
    }
  }

  #unitCode (unit: string): number {
    if (unit === this.#unit) return this.#unitCodeLast
    const code = this.#knownUnitCode(unit)
    this.#unit = unit
    this.#unitCodeLast = code
    return code
  }

  #knownUnitCode (unit: string): number {
    const code = this.#units.indexOf(unit)
    if (code !== -1) return code
    if (this.#units.length > defaults.units) return 0
    return this.#units.push(unit) - 1
  }
}
