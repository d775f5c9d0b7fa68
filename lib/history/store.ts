import type { HealthLifecycle } from '../controller.js'
import type { CheckRunner } from '../engine/runner.js'
import { CheckRings } from './check-rings.js'
import type { HistorySizes } from './options.js'
import { PendingReadings } from './pending.js'
import type { CheckHistory, HealthHistory, StatusHistory } from './schema.js'
import { StatusRings } from './status-rings.js'

// The history of one service: the rings of each check, fed by every recorded run, and the ring
// of the overall status, fed by every change. Each check's rings are kept by its runner, not by
// its name: a run finds them without a lookup by name (two map lookups a reading, on maps gone
// cold, were a large part of what the history cost a reading), and a check removed takes its
// rings with it when it is collected, whatever is added under its name later. A reading waits in
// a buffer (pending.ts) until the buffer is full or something reads the history.

export interface History {
  /** `health.history`: the documents. */
  read: HealthHistory
  /** The rings of the check named `name` now; undefined when it has none (no reading yet, or no such check). */
  rings: (name: string) => CheckRings | undefined
  status: StatusRings
  /** Stops recording. */
  stop: () => void
}

export function createHistory (lifecycle: Pick<HealthLifecycle, 'checks' | 'onRun' | 'onStatus' | 'snapshot'>, sizes: HistorySizes): History {
  const { checks } = lifecycle
  const ringsOf = new WeakMap<CheckRunner, CheckRings>()
  const status = new StatusRings(sizes.changes, lifecycle.snapshot().status, Date.now())

  const pending = new PendingReadings<CheckRunner>((runner, row) => {
    let rings = ringsOf.get(runner)
    if (rings === undefined) {
      rings = new CheckRings(runner.name, sizes)
      ringsOf.set(runner, rings)
    }
    rings.record(row)
  })
  const stopRuns = lifecycle.onRun((run, runner) => { pending.push(runner, run) })
  const stopStatus = lifecycle.onStatus((change) => status.record(change))

  const rings = (name: string): CheckRings | undefined => {
    pending.flush()
    const runner = checks.get(name)
    return runner === undefined ? undefined : ringsOf.get(runner)
  }

  function read (name?: string): CheckHistory | StatusHistory | undefined {
    pending.flush()
    if (name === undefined) return status.document()
    const runner = checks.get(name)
    if (runner === undefined) return undefined
    // A check with no reading yet: its empty history.
    return (ringsOf.get(runner) ?? new CheckRings(name, sizes)).document()
  }

  return {
    read: read as HealthHistory,
    rings,
    status,
    stop: () => {
      stopRuns()
      stopStatus()
    }
  }
}
