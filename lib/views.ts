import type { FastifyRequest } from 'fastify'
import { isCheckKey } from './formats.js'
import { State, stateStatus, Status, statusNotes } from './states.js'

/**
 * One way of picking checks for a view: a check by its name, every check of a component
 * (`db:*`), every check with a tag (`tag:critical`), or, in the table below only, the checks
 * whose `probes` option names the view (`MARKED`).
 */
export type Selector =
  | { readonly name: string }
  | { readonly component: string }
  | { readonly tag: string }
  | typeof MARKED

/** The checks whose `probes` option names the view; `markedByDefault` says whether a check without the option does. */
const MARKED = { marked: true } as const

/** A view of the table: what it counts and answers. */
interface ViewDefinition {
  /** The status before checks: what only the service's state says. */
  readonly baseStatus: (state: State, started: boolean) => Status
  /** The `notes` of an answer with `status`, in `state`. */
  readonly notes: (status: Status, state: State) => string
  /** Where it is served: the health document's own path, or this under it. */
  readonly path: string
  /** The checks it counts: every check when left out, else those any selector picks... */
  readonly include?: readonly Selector[]
  /** ...but for those one of these picks. */
  readonly exclude?: readonly Selector[]
  /** With `MARKED` in `include`: whether a check that leaves out its `probes` option counts. */
  readonly markedByDefault?: boolean
  /** HTTP code per status; `statusCodes` means the plugin's `statusCodes` option. */
  readonly codes: 'statusCodes' | Readonly<Record<Status, number>>
  /** The route's summary in an OpenAPI document. */
  readonly summary: string
}

/** Orchestrators read only the code: 200 while traffic may come, 503 when it must not. */
const PROBE_CODES = { pass: 200, warn: 200, fail: 503 } as const

const notesByStatus = (notes: Record<Status, string>) => (status: Status): string => notes[status]

/**
 * The health document's notes: what the state says, and, when checks make the status worse than
 * the state's, that they do (naming none: the notes are shown when the details are hidden too).
 */
function healthNotes (status: Status, state: State): string {
  const base = stateStatus[state]
  const note = statusNotes[base]
  if (status === base) return note
  return `${note}, ${base === Status.PASS ? 'but' : 'and'} ${status === Status.FAIL ? 'checks fail' : 'checks warn'}`
}

/**
 * The answers the plugin serves: the health document and the orchestrators' probes, each a group
 * of checks. Everything else (routes, options, which checks count, codes) is derived from this
 * table; the groups of the `groups` option are defined the same way, with the health document's
 * base status and notes.
 */
export const views = {
  health: {
    path: '',
    baseStatus: (state) => stateStatus[state],
    notes: healthNotes,
    codes: 'statusCodes',
    summary: 'Health of the service (application/health+json)'
  },
  live: {
    path: '/live',
    include: [MARKED],
    markedByDefault: false,
    baseStatus: () => Status.PASS,
    notes: notesByStatus({ pass: 'Service is alive', warn: 'Service is alive, with warnings', fail: 'A liveness check fails' }),
    codes: PROBE_CODES,
    summary: 'Liveness probe: 200 while the process can answer and no liveness check fails'
  },
  ready: {
    path: '/ready',
    include: [MARKED],
    markedByDefault: true,
    baseStatus: (state) => state === State.WORK ? Status.PASS : Status.FAIL,
    notes: notesByStatus({ pass: 'Service is ready', warn: 'Service is ready, with warnings', fail: 'Service is not ready' }),
    codes: PROBE_CODES,
    summary: 'Readiness probe: 200 only in state Working with no failing critical readiness check'
  },
  started: {
    path: '/started',
    include: [],
    baseStatus: (_state, started) => started ? Status.PASS : Status.FAIL,
    notes: notesByStatus({ pass: 'Service has started', warn: 'Service has started', fail: 'Service has not started yet' }),
    codes: PROBE_CODES,
    summary: 'Startup probe: 503 until the service first reaches Working, 200 from then on'
  }
} as const satisfies Record<string, ViewDefinition>

/**
 * One check on its own (`{path}/checks/:name`): the check counted as the health document counts
 * it, whatever the state, with the plugin's `statusCodes`.
 */
export const checkView = {
  path: '/checks/:name',
  baseStatus: () => Status.PASS,
  notes: notesByStatus({ pass: 'The check passes', warn: 'The check warns', fail: 'The check fails' }),
  codes: 'statusCodes',
  summary: 'One check of the service (application/health+json); 404 when no check has that name'
} as const satisfies ViewDefinition

/** What a name that no check has (or that the detail policy refuses) answers, with 404. */
export const missingCheck = { status: Status.FAIL, code: 404, notes: 'No such check', output: (name: string) => `No check is named "${name}"` } as const

export type View = keyof typeof views
/** The views beside the health document, each a route that the `probes` option can move or turn off. */
export type ProbeView = Exclude<View, 'health'>
/** The views a check can be counted for with its `probes` option. */
export type ProbeName = { [V in View]: typeof views[V] extends { readonly include: readonly [typeof MARKED] } ? V : never }[View]

const table: Record<View, ViewDefinition> = views
const viewNames = Object.keys(views) as View[]
export const probeViews = viewNames.filter((view) => view !== 'health') as ProbeView[]
export const probeNames = viewNames.filter((view) => table[view].include?.includes(MARKED) === true) as ProbeName[]
/** The views a check counts for when its `probes` option is left out. */
export const defaultProbes = probeNames.filter((view) => table[view].markedByDefault === true)

export const isBuiltInView = (name: string): name is View => Object.hasOwn(views, name)

/**
 * A selector as the `groups` option writes it: `tag:<tag>`, `<component>:*`, or a check's name
 * (in that order: `tag:x` is always a tag). Undefined when it is none of them.
 */
export function parseSelector (text: unknown): Selector | undefined {
  if (typeof text !== 'string') return undefined
  if (text.startsWith('tag:')) return text.slice(4).trim() === '' ? undefined : { tag: text.slice(4) }
  if (text.endsWith(':*')) {
    const component = text.slice(0, -2)
    return component === '' || component.includes(':') ? undefined : { component }
  }
  return isCheckKey(text) ? { name: text } : undefined
}

/** A selector as the `groups` option wrote it; undefined for `MARKED`, which it cannot write. */
export function selectorText (selector: Selector): string | undefined {
  if ('name' in selector) return selector.name
  if ('component' in selector) return `${selector.component}:*`
  return 'tag' in selector ? `tag:${selector.tag}` : undefined
}

/** What `include: ['db:*']` picks: the checks of component `db` (`db:responseTime`, and `db` itself). */
const componentOf = (name: string): string => name.split(':', 1)[0] as string

/** What a view needs to know of a check to count it. */
interface Countable {
  readonly name: string
  readonly settings: { readonly probes: ReadonlySet<ProbeName>, readonly tags: ReadonlySet<string> }
}

export function selects (selector: Selector, check: Countable, view: string): boolean {
  if ('name' in selector) return check.name === selector.name
  if ('component' in selector) return componentOf(check.name) === selector.component
  if ('tag' in selector) return check.settings.tags.has(selector.tag)
  return check.settings.probes.has(view as ProbeName)
}

/** A view as it is served: its definition with the options applied. */
export interface HealthView {
  readonly baseStatus: ViewDefinition['baseStatus']
  readonly notes: ViewDefinition['notes']
  /** Its name: a view of the table or a group of the `groups` option. */
  readonly name: string
  /** How error messages name it: `the ready probe`, `group "db"`. */
  readonly label: string
  /** Where it is served, below the prefix. */
  readonly url: string
  readonly include?: readonly Selector[]
  readonly exclude: readonly Selector[]
  readonly codes: Readonly<Record<Status, number>>
  readonly exposeDetails: DetailOption
  readonly summary: string
  /** A group of the user's: counting no check once the instance is ready is a mistake. */
  readonly mustCount: boolean
}

/** Whether a view counts a check: decided when the check is added, never per request. */
export function countsCheck (view: HealthView, check: Countable): boolean {
  const picked = (selector: Selector): boolean => selects(selector, check, view.name)
  return (view.include === undefined || view.include.some(picked)) && !view.exclude.some(picked)
}

export type DetailOption = boolean | ((request: FastifyRequest) => boolean | Promise<boolean>)

/** One group of the `groups` option. */
export interface HealthGroupOptions {
  /**
   * The checks it counts: check names, `component:*` patterns and `tag:<tag>` selectors. For a
   * probe, an include replaces the checks its `probes` option marks.
   * @default every check (a probe: the checks marked for it)
   */
  include?: string[]
  /** Checks taken out of the ones `include` picks. */
  exclude?: string[]
  /**
   * Where it is served (under `prefix`).
   * @default `{path}/{name}`
   */
  path?: string
  /**
   * Whether its answers show `checks` and `output`.
   * @default the plugin's `exposeDetails`
   */
  exposeDetails?: DetailOption
  /**
   * HTTP codes per status, in the ranges of the plugin's `statusCodes`.
   * @default the plugin's `statusCodes` (a probe: 200, 200, 503)
   */
  statusCodes?: Partial<Record<Status, number>>
}

const parsed = (selectors: string[] | undefined): Selector[] | undefined => selectors?.map((text) => parseSelector(text) as Selector)

/**
 * The views that are served, in the table's order, then the groups in theirs. A group named
 * like a probe redefines it: an `include` of its own replaces the checks the `probes` option
 * marks for it, an `exclude` takes some out; base status and notes stay the probe's.
 */
export function resolveViews ({ path, probes, groups, statusCodes, exposeDetails }: {
  path: string
  probes: boolean | Partial<Record<ProbeView, string | false>>
  groups: Record<string, HealthGroupOptions>
  statusCodes: Readonly<Record<Status, number>>
  exposeDetails: DetailOption
}): HealthView[] {
  const base = path.replace(/\/+$/, '')
  const resolved: HealthView[] = []
  const add = (name: string, label: string, url: string, definition: ViewDefinition, group: HealthGroupOptions, mustCount: boolean): void => {
    const codes = definition.codes === 'statusCodes' ? statusCodes : definition.codes
    resolved.push({
      name,
      label,
      url: group.path ?? url,
      include: parsed(group.include) ?? definition.include,
      exclude: parsed(group.exclude) ?? definition.exclude ?? [],
      baseStatus: definition.baseStatus,
      notes: definition.notes,
      codes: { ...codes, ...group.statusCodes },
      exposeDetails: group.exposeDetails ?? exposeDetails,
      summary: definition.summary,
      mustCount
    })
  }
  add('health', 'the health document', path, views.health, {}, false)
  const paths = probes === true ? {} : probes
  for (const view of probeViews) {
    const given = paths === false ? false : paths[view]
    if (given !== false) add(view, `the ${view} probe`, given ?? base + table[view].path, table[view], groups[view] ?? {}, false)
  }
  for (const [name, group] of Object.entries(groups)) {
    if (isBuiltInView(name)) continue
    const definition = { ...views.health, summary: `Health of the checks of group "${name}" (application/health+json)` }
    add(name, `group "${name}"`, `${base}/${name}`, definition, group, true)
  }
  return resolved
}
