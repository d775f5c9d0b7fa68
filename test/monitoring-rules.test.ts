// The shipped rules of monitoring/: valid for promtool, their unit tests (monitoring/tests/*.yml:
// each alert fires after its `for:`, not on a blip, and resolves) passing, every alert with
// what the on-call person needs, and the PrometheusRule manifest holding the same groups.
import { spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { MONITORING, shipped, testRules } from './monitoring.js'
import { requireBinary } from './servers/datastore.js'
import { shortenFor } from './servers/alertmanager.js'
import { scratchDir } from './servers/common.js'

const RULE_FILES = ['recording-rules.yml', 'alerting-rules.yml']

/** Runs promtool in monitoring/; its output when it fails. */
function promtool (t: Test, args: string[], what: string): string {
  const binary = requireBinary('/usr/bin/promtool', 'prometheus')
  const run = spawnSync(binary, args, { cwd: MONITORING, encoding: 'utf8', timeout: 60_000 })
  const output = `${run.stdout}${run.stderr}`
  t.equal(run.status, 0, `${what}${run.status === 0 ? '' : `:\n${output}`}`)
  return output
}

/** The lines after `groups:`, less the indentation of `groups:` (the manifest's is under `spec:`). */
const groupLines = (text: string, indent: string): string[] => {
  const lines = text.split('\n')
  return lines.slice(lines.indexOf(`${indent}groups:`) + 1).map((line) => line === '' ? line : line.slice(indent.length))
}
const trimEnd = (lines: string[]): string[] => {
  const copy = [...lines]
  while (copy.at(-1) === '') copy.pop()
  return copy
}

/** The alerting rules, each as its block of text, by name. */
const alertBlocks = (text: string): Map<string, string> =>
  new Map(text.split(/^ {6}- alert: /m).slice(1).map((block) => [block.slice(0, block.indexOf('\n')), block]))

t.test('promtool check rules accepts the rule files', async (t) => {
  const output = promtool(t, ['check', 'rules', ...RULE_FILES], 'promtool check rules')
  t.match(output, /recording-rules\.yml\n {2}SUCCESS: 9 rules found/)
  t.match(output, /alerting-rules\.yml\n {2}SUCCESS: 6 rules found/)
})

t.test('promtool test rules: every unit test passes', async (t) => {
  const files = readdirSync(join(MONITORING, 'tests')).filter((file) => file.endsWith('.test.yml')).map((file) => join('tests', file))
  t.ok(files.length >= 6, `${files.length} test files`)
  const output = promtool(t, ['test', 'rules', ...files], 'promtool test rules')
  t.equal(output.match(/SUCCESS/g)?.length, files.length, 'each file: SUCCESS')
  // Every alert has a unit test.
  const tested = files.map((file) => shipped(file)).join('\n')
  for (const name of alertBlocks(shipped('alerting-rules.yml')).keys()) t.match(tested, `alertname: ${name}\n`, `${name} is tested`)
})

t.test('every alert: for:, a severity, summary and description naming the service and instance', async (t) => {
  const alerts = alertBlocks(shipped('alerting-rules.yml'))
  t.same([...alerts.keys()].sort(), [
    'FastifyHealthCheckFailing', 'FastifyHealthCheckFailingFleetWide', 'FastifyHealthCheckFlapping',
    'FastifyHealthCheckSlow', 'FastifyHealthServiceNotPassing', 'FastifyHealthStoppedExporting'
  ])
  for (const [name, block] of alerts) {
    t.match(block, /^ {8}for: \d+[smh]$/m, `${name}: for:`)
    t.match(block, /^ {10}severity: (warning|page)$/m, `${name}: severity`)
    t.match(block, /^ {10}service: /m, `${name}: a service label`)
    const annotations = block.slice(block.indexOf('annotations:'))
    t.match(annotations, /summary: .*\$labels\.job/, `${name}: the summary names the service`)
    t.match(annotations, /description: >-\n(?: {12}.*\n?)*/, `${name}: a description`)
    t.match(annotations, /\$labels\.instance|\.Labels\.instance/, `${name}: the instance is named`)
    if (!/FastifyHealth(ServiceNotPassing|StoppedExporting)/.test(name)) t.match(annotations, /\$labels\.check/, `${name}: the check is named`)
  }
  t.match(alerts.get('FastifyHealthCheckFailingFleetWide'), /severity: page/, 'the fleet-wide outage pages')
  t.match(alerts.get('FastifyHealthCheckFailing'), /severity: warning/, 'one instance failing warns')
})

t.test('the test copy of the rules shortens every for:', async (t) => {
  const copy = testRules()['alerting-rules.yml'] as string
  t.equal(copy.match(/^ {8}for: 2s$/gm)?.length, 6)
  t.equal(shortenFor('    for: 10m\n    expr: x', '1s'), '    for: 1s\n    expr: x')
})

t.test('the PrometheusRule manifest holds the rule files\' groups, and promtool accepts them', async (t) => {
  const manifest = shipped('prometheus-rule.yml')
  t.match(manifest, /^apiVersion: monitoring\.coreos\.com\/v1\nkind: PrometheusRule\nmetadata:\n {2}name: fastify-health\n/m)
  const groups = trimEnd(groupLines(manifest, '  '))
  t.same(groups, RULE_FILES.flatMap((file) => trimEnd(groupLines(shipped(file), ''))),
    'the groups of recording-rules.yml then alerting-rules.yml, as they are')
  // The groups as a rule file of their own, for promtool.
  const { path: dir, remove } = await scratchDir('rules')
  t.teardown(remove)
  const file = join(dir, 'from-manifest.yml')
  writeFileSync(file, ['groups:', ...groups, ''].join('\n'))
  const output = promtool(t, ['check', 'rules', file], 'promtool check rules on the manifest\'s groups')
  t.match(output, /SUCCESS: 15 rules found/)
})

t.test('the README\'s inhibit rules: a valid Alertmanager configuration (amtool check-config)', async (t) => {
  const snippet = /```yaml\n(inhibit_rules:\n[^`]+)```/.exec(shipped('README.md'))?.[1]
  t.ok(snippet, 'the README has an inhibit_rules block')
  const { path: dir, remove } = await scratchDir('inhibit')
  t.teardown(remove)
  const file = join(dir, 'alertmanager.yml')
  writeFileSync(file, `route:\n  receiver: pager\nreceivers:\n  - name: pager\n${String(snippet)}`)
  const run = spawnSync(requireBinary('/usr/bin/amtool', 'prometheus-alertmanager'), ['check-config', file], { encoding: 'utf8', timeout: 60_000 })
  t.equal(run.status, 0, `amtool check-config${run.status === 0 ? '' : `: ${run.stdout}${run.stderr}`}`)
  t.match(run.stdout, / - 3 inhibit rules/)
})
