import type { Answer } from '../answer.js'
import { outputOf } from '../history/check-rings.js'
import type { HistoryContext } from '../history/route.js'
import type { StatusChangeRecord } from '../history/schema.js'
import type { ResolvedOptions } from '../options.js'
import type { Status } from '../states.js'

// The status page's own JSON (`{page}/data`): what the page shows, shaped for it. Times are
// milliseconds since the epoch, beside the server's `now`, so the page counts "ago" without
// trusting the browser's clock.

/** Without permission: the overall status, and nothing else. */
interface HiddenData {
  details: false
  status: Status
}

interface CheckData {
  name: string
  /** How it counts now; null before its first reading. */
  status: Status | null
  output?: string
  /** The latest numeric observedValue, and its unit. */
  value: number | null
  unit?: string
  /** The recent values, oldest first (null: the reading had none). */
  values: Array<number | null>
  /** The recent counted statuses, oldest first: one letter each, p, w or f. */
  strip: string
  /** When it started counting as it does now. */
  since: number | null
  /** Its changes in the window the history keeps. */
  changes: number
  /** When the oldest reading kept arrived: the start of that window. */
  windowStart: number | null
}

interface ShownData {
  details: true
  now: number
  service: { name: string, version?: string, releaseId?: string, state: string, status: Status, since: number }
  views: Array<{ name: string, url: string, status: Status }>
  checks: CheckData[]
  /** The latest changes of the overall status, oldest first. */
  changes: StatusChangeRecord[]
}

export type PageData = HiddenData | ShownData

const defaults = {
  /** Readings in a sparkline and a strip: readable at 320 px. */
  recent: 60,
  /** Changes of the overall status listed. */
  changes: 10
}

const settled = (answer: Answer | Promise<Answer>): Promise<Answer> => Promise.resolve(answer)

/** The page's data; runs the checks that are due, as a request to the views would. */
export async function pageData ({ health, lifecycle, history }: HistoryContext, options: ResolvedOptions, showDetails: boolean): Promise<PageData> {
  if (!showDetails) return { details: false, status: (await settled(lifecycle.answer('health', false))).status }
  const answers = await Promise.all(options.views.map(async (view) => ({ view, answer: await settled(lifecycle.answer(view.name, false)) })))
  const overall = answers.find(({ view }) => view.name === 'health')?.answer as Answer
  const checks: CheckData[] = []
  for (const runner of lifecycle.checks.all()) checks.push(checkData(runner.name, runner.reading?.entries, history))
  const { status } = history
  return {
    details: true,
    now: Date.now(),
    service: { name: options.serviceName, version: options.version, releaseId: options.releaseId, state: health.state, status: overall.status, since: status.since },
    views: answers.filter(({ view }) => view.name !== 'health').map(({ view, answer }) => ({ name: view.name, url: view.url, status: answer.status })),
    checks,
    changes: status.records(defaults.changes)
  }
}

function checkData (name: string, entries: Parameters<typeof outputOf>[0] | undefined, { rings: ringsOf }: HistoryContext['history']): CheckData {
  const rings = ringsOf(name)
  const data: CheckData = { name, status: null, value: null, values: [], strip: '', since: null, changes: 0, windowStart: null }
  if (entries !== undefined) data.output = outputOf(entries)
  if (rings === undefined) return data
  const { length } = rings.readings
  let strip = ''
  for (let index = Math.max(0, length - defaults.recent); index < length; index++) {
    const { value, counted } = rings.reading(index)
    data.values.push(Number.isNaN(value) ? null : value)
    strip += counted[0]
  }
  data.status = rings.reading(length - 1).counted
  data.strip = strip
  data.value = data.values.at(-1) ?? null
  data.unit = rings.unitAt(rings.latest as number)
  data.since = rings.since as number
  data.changes = rings.changesInWindow()
  data.windowStart = rings.readingAt(0)
  return data
}
