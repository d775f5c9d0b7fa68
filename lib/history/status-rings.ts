import type { StatusChange } from '../engine/types.js'
import type { Status } from '../states.js'
import { Ring } from './ring.js'
import type { StatusChangeRecord, StatusHistory } from './schema.js'
import { statusCode, statusOf } from './status-codes.js'

// The changes of the overall status: when, from, to, and the check or state that caused each.

const columns = { at: Float64Array, from: Uint8Array, to: Uint8Array, byState: Uint8Array }

export class StatusRings {
  readonly changes: Ring<typeof columns>
  /** The check's name or the state each change came from, by the change's slot. */
  readonly #causes: string[] = []
  status: Status
  /** When it became what it is: its latest change, or when the history began. */
  since: number

  constructor (size: number, status: Status, now: number) {
    this.changes = new Ring(size, columns)
    this.status = status
    this.since = now
  }

  record ({ at, from, to, cause }: StatusChange): void {
    const slot = this.changes.push()
    const { columns } = this.changes
    columns.at[slot] = at
    columns.from[slot] = statusCode(from)
    columns.to[slot] = statusCode(to)
    const byState = 'state' in cause
    columns.byState[slot] = byState ? 1 : 0
    this.#causes[slot] = byState ? cause.state : cause.check
    this.status = to
    this.since = at
  }

  /** The changes, the newest `limit` of them (all by default), oldest first. */
  records (limit = this.changes.length): StatusChangeRecord[] {
    const records: StatusChangeRecord[] = []
    const { at, from, to, byState } = this.changes.columns
    for (let index = Math.max(0, this.changes.length - limit); index < this.changes.length; index++) {
      const slot = this.changes.slot(index)
      const cause = this.#causes[slot] as string
      records.push({
        time: new Date(at[slot] as number).toISOString(),
        from: statusOf(from[slot]),
        to: statusOf(to[slot]),
        cause: byState[slot] === 1 ? { state: cause } : { check: cause }
      })
    }
    return records
  }

  document (): StatusHistory {
    return { status: this.status, since: new Date(this.since).toISOString(), size: this.changes.size, changes: this.records() }
  }
}
