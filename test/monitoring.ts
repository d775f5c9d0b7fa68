// What the monitoring tests share: the shipped files of monitoring/, the rules as the real
// Prometheus loads them in a test (the `for:` durations shortened), and the PromQL of the Grafana
// dashboard. Nothing of lib/: the rules and dashboard tests run without the plugin.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { shortenFor } from './servers/alertmanager.js'

export const MONITORING = join(import.meta.dirname, '..', 'monitoring')

/** A file of monitoring/, as text. */
export const shipped = (file: string): string => readFileSync(join(MONITORING, file), 'utf8')

/** The rule files, `for:` shortened: what the real Prometheus of a test loads. */
export const testRules = (): Record<string, string> => ({
  'recording-rules.yml': shipped('recording-rules.yml'),
  'alerting-rules.yml': shortenFor(shipped('alerting-rules.yml'))
})

/** A Grafana panel or row, as far as the tests read it. */
export interface Panel {
  id: number
  type: string
  title: string
  gridPos: { x: number, y: number, w: number, h: number }
  datasource?: { type: string, uid: string }
  targets?: Array<{ expr: string, refId: string }>
  panels?: Panel[]
}

export interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: Panel[]
  templating: { list: Array<{ name: string, type: string, query: string | { query: string }, definition?: string }> }
}

export const dashboard = (): Dashboard => JSON.parse(shipped('grafana-dashboard.json')) as Dashboard

/** Every panel, those inside collapsed rows too. */
export const allPanels = (board: Dashboard): Panel[] => board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])])

/** Every PromQL expression of the panels, with where it is. */
export const panelQueries = (board: Dashboard): Array<{ where: string, expr: string }> =>
  allPanels(board).flatMap((panel) => (panel.targets ?? []).map(({ expr, refId }) => ({ where: `panel "${panel.title}" ${refId}`, expr })))

/** The template variables' queries: Grafana's `label_values(selector, label)`. */
export const variableQueries = (board: Dashboard): Array<{ name: string, selector: string, label: string }> =>
  board.templating.list.filter((variable) => variable.type === 'query').map((variable) => {
    const text = typeof variable.query === 'string' ? variable.query : variable.query.query
    const match = /^label_values\((.+), *(\w+)\)$/.exec(text)
    if (match === null) throw new Error(`variable ${variable.name}: not label_values(selector, label): ${text}`)
    return { name: variable.name, selector: match[1] as string, label: match[2] as string }
  })

/** An expression as Grafana sends it, with the variables set to `values` (a regex each). */
export const withVariables = (expr: string, values: Record<string, string>): string =>
  expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => values[name] ?? whole)
