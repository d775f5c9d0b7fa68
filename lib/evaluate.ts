import { truncate } from './engine/normalize.js'
import type { CheckRunner } from './engine/runner.js'
import type { HealthCheckEntry } from './schema.js'
import { State, stateStatus, Status, statusNotes, worstStatus } from './states.js'

/** The answers the plugin serves: the health document and the three orchestrator probes. */
export type View = 'health' | 'live' | 'ready' | 'started'

/** What one view says now, before identity fields and HTTP codes are added. */
export interface Evaluation {
  status: Status
  notes: string[]
  output?: string
  checks?: Record<string, HealthCheckEntry[]>
}

export interface Situation {
  state: State
  /** The service has reached Working at least once. */
  started: boolean
  runners: Iterable<CheckRunner>
}

const MAX_SUMMARY_LENGTH = 1024

/** Which checks a view counts: all for /health, the marked ones for probes, none for /started. */
export function countsFor (view: View): (runner: CheckRunner) => boolean {
  if (view === 'health') return () => true
  if (view === 'started') return () => false
  return (runner) => runner.settings.probes.has(view)
}

const probeNotes: Record<Exclude<View, 'health'>, Record<Status, string>> = {
  live: { pass: 'Service is alive', warn: 'Service is alive, with warnings', fail: 'A liveness check fails' },
  ready: { pass: 'Service is ready', warn: 'Service is ready, with warnings', fail: 'Service is not ready' },
  started: { pass: 'Service has started', warn: 'Service has started', fail: 'Service has not started yet' }
}

/** The status a view starts from, before checks: what only the state says. */
function baseStatus (view: View, { state, started }: Situation): Status {
  if (view === 'health') return stateStatus[state]
  if (view === 'ready') return state === State.WORK ? Status.PASS : Status.FAIL
  if (view === 'started') return started ? Status.PASS : Status.FAIL
  return Status.PASS
}

export function evaluate (view: View, situation: Situation): Evaluation {
  const base = baseStatus(view, situation)
  let status = base
  const problems: string[] = base === Status.PASS ? [] : [`Service state: ${situation.state}`]
  let checks: Record<string, HealthCheckEntry[]> | undefined
  const counts = countsFor(view)
  for (const runner of situation.runners) {
    const outcome = runner.outcome
    // A check with no reading yet is left out: a request waits for its first reading, so only
    // announcements (a state change before any request) could ever see it.
    if (outcome === undefined || !counts(runner)) continue
    const { entries, status: own } = outcome
    // A failing check that is not critical lowers the answer to warn, never to fail.
    status = worstStatus(status, own === Status.FAIL && !runner.settings.critical ? Status.WARN : own)
    ;(checks ??= {})[runner.name] = entries
    if (own !== Status.PASS) {
      const said = entries.find((entry) => entry.output !== undefined)?.output
      problems.push(said === undefined ? `${runner.name}: ${own}` : `${runner.name}: ${own} (${said})`)
    }
  }
  const notes = [view === 'health' ? statusNotes[stateStatus[situation.state]] : probeNotes[view][status]]
  const evaluation: Evaluation = { status, notes }
  if (status !== Status.PASS) {
    evaluation.output = truncate(problems.join('; '), MAX_SUMMARY_LENGTH)
  }
  if (checks !== undefined) evaluation.checks = checks
  return evaluation
}
