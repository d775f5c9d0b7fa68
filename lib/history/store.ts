import type { HealthLifecycle } from '../controller.js'
import { CheckRings } from './check-rings.js'
import type { HistorySizes } from './options.js'
import type { CheckHistory, HealthHistory, StatusHistory } from './schema.js'
import { StatusRings } from './status-rings.js'

// The history of one service: the rings of each check, fed by every recorded run, and the ring
// of the overall status, fed by every change. A removed check's rings are forgotten: at once
// when a look finds another check (or none) under its name, and by a sweep as new rings come.

export interface History {
  /** `health.history`: the documents. */
  read: HealthHistory
  /** The rings of the check named `name` now; undefined when it has none (no reading yet, or no such check). */
  rings: (name: string) => CheckRings | undefined
  status: StatusRings
  /** Stops recording. */
  stop: () => void
}

const defaults = {
  /** Sweep for removed checks' rings once there are this many (then twice as many as were left). */
  sweepAt: 64
}

export function createHistory (lifecycle: Pick<HealthLifecycle, 'checks' | 'onRun' | 'onStatus' | 'snapshot'>, sizes: HistorySizes): History {
  const { checks } = lifecycle
  const byName = new Map<string, CheckRings>()
  const status = new StatusRings(sizes.changes, lifecycle.snapshot().status, Date.now())
  let sweepAt = defaults.sweepAt

  /** Forgets the rings of every check that was removed: memory stays bounded by the checks there are. */
  const sweep = (): void => {
    for (const [name, rings] of byName) if (checks.get(name) !== rings.owner) byName.delete(name)
    sweepAt = Math.max(defaults.sweepAt, byName.size * 2)
  }

  const stopRuns = lifecycle.onRun((run) => {
    const owner = checks.get(run.name)
    /* c8 ignore next: the registry reports no run of a check it no longer has */
    if (owner === undefined) return
    let rings = byName.get(run.name)
    if (rings?.owner !== owner) {
      rings = new CheckRings(run.name, owner, sizes)
      byName.set(run.name, rings)
      if (byName.size >= sweepAt) sweep()
    }
    rings.record(run)
  })
  const stopStatus = lifecycle.onStatus((change) => status.record(change))

  const rings = (name: string): CheckRings | undefined => {
    const found = byName.get(name)
    if (found === undefined || checks.get(name) === found.owner) return found
    byName.delete(name)
    return undefined
  }

  function read (name?: string): CheckHistory | StatusHistory | undefined {
    if (name === undefined) return status.document()
    const owner = checks.get(name)
    if (owner === undefined) return undefined
    // A check with no reading yet: its empty history.
    return (rings(name) ?? new CheckRings(name, owner, sizes)).document()
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
