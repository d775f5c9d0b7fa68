// The Grafana dashboard of monitoring/ as Grafana needs it: Grafana is not packaged by Debian, so
// the JSON is checked for the fields Grafana requires here, and its queries are run against a real
// Prometheus in monitoring-pipeline.test.ts.
import t from 'tap'
import { allPanels, dashboard, panelQueries, variableQueries, withVariables } from './monitoring.js'

/** The panel types Grafana ships (its core plugins), rows included. */
const CORE_PANELS = new Set([
  'alertlist', 'annolist', 'barchart', 'bargauge', 'candlestick', 'canvas', 'dashlist', 'datagrid', 'flamegraph', 'gauge',
  'geomap', 'heatmap', 'histogram', 'logs', 'news', 'nodeGraph', 'piechart', 'row', 'stat', 'state-timeline',
  'status-history', 'table', 'text', 'timeseries', 'traces', 'trend', 'xychart'
])

const board = dashboard()
/** Grafana's reference to the data source variable. */
const CHOSEN = ['$', '{datasource}'].join('')

t.test('the fields Grafana requires', async (t) => {
  t.match(board.uid, /^[a-zA-Z0-9_-]{1,40}$/, 'a uid Grafana accepts (at most 40 characters)')
  t.equal(typeof board.title, 'string')
  t.ok(Number.isInteger(board.schemaVersion) && board.schemaVersion >= 36, `schemaVersion ${board.schemaVersion} (Grafana 9 and later)`)
  const panels = allPanels(board)
  t.same(panels.filter((panel) => !CORE_PANELS.has(panel.type)).map((panel) => panel.type), [], 'only core panel types')
  t.equal(new Set(panels.map((panel) => panel.id)).size, panels.length, 'unique panel ids')
  for (const panel of panels) {
    const { x, w, h } = panel.gridPos
    t.ok(x >= 0 && w > 0 && h > 0 && x + w <= 24, `panel "${panel.title}" fits the 24 columns`)
    if (panel.type === 'row') continue
    t.same(panel.datasource, { type: 'prometheus', uid: CHOSEN }, `panel "${panel.title}" reads the chosen data source`)
    t.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`)
  }
})

t.test('the template variables: data source, job, instance and check', async (t) => {
  t.same(board.templating.list.map(({ name, type }) => `${name}:${type}`), ['datasource:datasource', 'job:query', 'instance:query', 'check:query'])
  t.same(variableQueries(board).map(({ name, label }) => `${name}:${label}`), ['job:job', 'instance:instance', 'check:check'])
  for (const { where, expr } of panelQueries(board)) {
    t.notMatch(withVariables(expr, { job: 'j', instance: 'i', check: 'c' }), /\$/, `${where}: only the dashboard's variables`)
  }
})

t.test('what the issue asks for: an overview, checks by instance, a state timeline, durations, firing alerts', async (t) => {
  const panels = allPanels(board)
  const titled = (title: string): string | undefined => panels.find((panel) => panel.title === title)?.type
  t.equal(titled('Instances passing'), 'stat')
  t.equal(titled('Checks by instance'), 'table')
  t.equal(titled('Check status by instance'), 'state-timeline')
  t.equal(titled('Service status by instance'), 'state-timeline')
  t.equal(titled('Check duration p95 by instance'), 'timeseries')
  t.equal(titled('Firing alerts'), 'table')
  t.match(panelQueries(board).find(({ where }) => where.startsWith('panel "Firing alerts"'))?.expr, /^ALERTS\{alertstate="firing"/)
})
