import type { StatusChange } from '../engine/types.js'
import { isoDateTime } from '../formats.js'
import type { Status } from '../states.js'
import { Ring } from './ring.js'
import type { StatusChangeRecord, StatusHistory } from './schema.js'
import { statusCode, statusOf } from './status-codes.js'

// The changes of the overall status: when, from, to, and the check or state that caused each.

/** A change's row (ring.ts): byte offsets of its fields; byState is 1 when the state caused it, 0 a check. */
const CHANGE = { bytes: 11, at: 0, from: 8, to: 9, byState: 10 } as const

export class StatusRings {
  readonly changes: Ring
  /** The check's name or the state each change came from, by the change's slot (its row / the stride). */
  readonly #causes: string[] = []
  status: Status
  /** When it became what it is: its latest change, or when the history began. */
  since: number

  constructor (size: number, status: Status, now: number) {
    this.changes = new Ring(size, CHANGE.bytes)
    this.status = status
    this.since = now
  }

  record ({ at, from, to, cause }: StatusChange): void {
    const ring = this.changes
    const row = ring.push()
    ring.view.setFloat64(row + CHANGE.at, at, true)
    ring.view.setUint8(row + CHANGE.from, statusCode(from))
    ring.view.setUint8(row + CHANGE.to, statusCode(to))
    const byState = 'state' in cause
    ring.view.setUint8(row + CHANGE.byState, byState ? 1 : 0)
    this.#causes[row / ring.stride] = byState ? cause.state : cause.check
    this.status = to
    this.since = at
  }

  /** The changes, the newest `limit` of them (all by default), oldest first. */
  records (limit = this.changes.length): StatusChangeRecord[] {
    const records: StatusChangeRecord[] = []
    const ring = this.changes
    for (let index = Math.max(0, ring.length - limit); index < ring.length; index++) {
      const row = ring.row(index)
      const cause = this.#causes[row / ring.stride] as string
      records.push({
        time: isoDateTime(ring.view.getFloat64(row + CHANGE.at, true)),
        from: statusOf(ring.view.getUint8(row + CHANGE.from)),
        to: statusOf(ring.view.getUint8(row + CHANGE.to)),
        cause: ring.view.getUint8(row + CHANGE.byState) === 1 ? { state: cause } : { check: cause }
      })
    }
    return records
  }

  document (): StatusHistory {
    return { status: this.status, since: isoDateTime(this.since), size: this.changes.size, changes: this.records() }
  }
}
