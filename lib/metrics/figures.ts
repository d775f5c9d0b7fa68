// What the OpenTelemetry and the Prometheus metrics share: which figures there are, the state-set
// series of a status, the duration buckets, and loading an optional peer package. Both read only
// the lifecycle's snapshot() and onRun(), so that they stay apart from the check engine.
import type { CheckRun, HealthSnapshot } from '../engine/types.js'
import { FST_HEALTH_PEER_MISSING } from '../errors.js'
import { Status } from '../states.js'

/** What the metrics read: the latest statuses (at collection time) and each settled run. */
export interface FiguresSource {
  snapshot: () => HealthSnapshot
  onRun: (listener: (run: CheckRun) => void) => () => void
}

/** Every status value, each a series of a state set. */
export const STATUSES: readonly Status[] = [Status.PASS, Status.WARN, Status.FAIL]

/**
 * Bucket boundaries of the run durations, in seconds: OpenTelemetry's advice for HTTP durations,
 * from 5 ms to 10 s (a check times out after 2 s by default).
 */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

/**
 * The state sets of the latest snapshot, as OpenTelemetry's state-set pattern has them (as
 * `hw.status`): per status one series, 1 for the current one and 0 for the others. `service` is
 * called for the overall status, `check` for each check with a reading (a removed check is gone).
 */
export function eachStatePoint (
  source: FiguresSource,
  service: (status: Status, value: 0 | 1) => void,
  check: (name: string, status: Status, value: 0 | 1) => void
): void {
  const snapshot = source.snapshot()
  for (const status of STATUSES) service(status, snapshot.status === status ? 1 : 0)
  for (const { name, status: current } of snapshot.checks) {
    for (const status of STATUSES) check(name, status, current === status ? 1 : 0)
  }
}

/**
 * Loads an optional peer package for `option`, which the user enabled; FST_HEALTH_PEER_MISSING
 * when it cannot be loaded. A variable specifier, so that nothing loads it unless asked.
 */
export async function loadPeer<T> (specifier: string, option: string): Promise<T> {
  try {
    return await import(specifier) as T
  } catch (error) {
    throw new FST_HEALTH_PEER_MISSING(option, specifier, { cause: error })
  }
}
