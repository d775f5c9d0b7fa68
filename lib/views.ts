import { State, stateStatus, Status, statusNotes } from './states.js'

/** What a view's status is decided from, beside its checks' readings. */
export interface Snapshot {
  state: State
  /** The service has reached Working at least once. */
  started: boolean
}

interface ViewDefinition {
  /** Where it is served: the health document's own path, or this under it. */
  readonly path: string
  /**
   * Which checks count: `all`, the ones whose `probes` option names this view (`marked`, and
   * `markedByDefault` says whether a check without the option is), or `none`.
   */
  readonly counts: 'all' | 'marked' | 'none'
  readonly markedByDefault?: boolean
  /** The status before checks: what only the state says. */
  readonly baseStatus: (snapshot: Snapshot) => Status
  /** The `notes` of the answer, given its status. */
  readonly notes: (status: Status, snapshot: Snapshot) => string
  /** HTTP code per status; `statusCodes` means the plugin's `statusCodes` option. */
  readonly codes: 'statusCodes' | Readonly<Record<Status, number>>
  /** The route's summary in an OpenAPI document. */
  readonly summary: string
}

/** Orchestrators read only the code: 200 while traffic may come, 503 when it must not. */
const PROBE_CODES = { pass: 200, warn: 200, fail: 503 } as const

const notesByStatus = (notes: Record<Status, string>) => (status: Status): string => notes[status]

/**
 * The answers the plugin serves: the health document and the orchestrators' probes. Everything
 * else (routes, options, which checks count, codes) is derived from this table.
 */
export const views = {
  health: {
    path: '',
    counts: 'all',
    baseStatus: ({ state }) => stateStatus[state],
    notes: (_status, { state }) => statusNotes[stateStatus[state]],
    codes: 'statusCodes',
    summary: 'Health of the service (application/health+json)'
  },
  live: {
    path: '/live',
    counts: 'marked',
    markedByDefault: false,
    baseStatus: () => Status.PASS,
    notes: notesByStatus({ pass: 'Service is alive', warn: 'Service is alive, with warnings', fail: 'A liveness check fails' }),
    codes: PROBE_CODES,
    summary: 'Liveness probe: 200 while the process can answer and no liveness check fails'
  },
  ready: {
    path: '/ready',
    counts: 'marked',
    markedByDefault: true,
    baseStatus: ({ state }) => state === State.WORK ? Status.PASS : Status.FAIL,
    notes: notesByStatus({ pass: 'Service is ready', warn: 'Service is ready, with warnings', fail: 'Service is not ready' }),
    codes: PROBE_CODES,
    summary: 'Readiness probe: 200 only in state Working with no failing critical readiness check'
  },
  started: {
    path: '/started',
    counts: 'none',
    baseStatus: ({ started }) => started ? Status.PASS : Status.FAIL,
    notes: notesByStatus({ pass: 'Service has started', warn: 'Service has started', fail: 'Service has not started yet' }),
    codes: PROBE_CODES,
    summary: 'Startup probe: 503 until the service first reaches Working, 200 from then on'
  }
} as const satisfies Record<string, ViewDefinition>

export type View = keyof typeof views
/** The views beside the health document, each a route that the `probes` option can move or turn off. */
export type ProbeView = Exclude<View, 'health'>
/** The views a check can be counted for with its `probes` option. */
export type ProbeName = { [V in View]: typeof views[V]['counts'] extends 'marked' ? V : never }[View]

const table: Record<View, ViewDefinition> = views
export const viewNames = Object.keys(views) as View[]
export const probeViews = viewNames.filter((view) => view !== 'health') as ProbeView[]
export const probeNames = viewNames.filter((view) => table[view].counts === 'marked') as ProbeName[]
/** The views a check counts for when its `probes` option is left out. */
export const defaultProbes = probeNames.filter((view) => table[view].markedByDefault === true)

/** Whether a view counts a check, given the probes the check is marked for. */
export function counts (view: View, probes: ReadonlySet<ProbeName>): boolean {
  const { counts } = table[view]
  return counts === 'all' || (counts === 'marked' && probes.has(view as ProbeName))
}

export function viewDefinition (view: View): ViewDefinition {
  return table[view]
}
