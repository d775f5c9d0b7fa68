// Health queries under a probe storm: for PostgreSQL, MariaDB and Redis, how many health queries
// the server itself counted while autocannon (50 connections, 10 s) hit /health/ready of an app
// whose check has cacheFor 1000 ms. The load runs in test/datastore-loads.test.ts, against real
// servers it starts; each load writes its figure to the file FASTIFY_HEALTH_BENCH_OUT names.
// Run with `npm run bench:datastores`; results in bench/results/datastores.{json,md}.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const scratch = mkdtempSync(join(tmpdir(), 'fastify-health-bench-'))
const out = join(scratch, 'figures.jsonl')
const files = ['test/datastore-loads.test.ts']
const run = spawnSync(process.execPath, [join(root, 'node_modules/tap/dist/esm/run.mjs'), ...files, '--disable-coverage', '--jobs', '1'], {
  cwd: root, env: { ...process.env, FASTIFY_HEALTH_BENCH_OUT: out }, stdio: ['ignore', 'ignore', 'inherit']
})
let figures = []
try {
  figures = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
if (run.status !== 0 || figures.length === 0) {
  console.error(`bench:datastores: the tests failed (exit ${run.status}) or wrote no figure`)
  process.exit(1)
}

const rows = figures.map((f) => ({ ...f, perSecond: f.serverQueries / f.seconds, expected: (f.seconds * 1000) / f.cacheFor }))
const lines = [
  `# Health queries under a probe storm (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
  '',
  `node ${process.version}. autocannon, 50 connections, on /health/ready; the check's cacheFor as given. Counted by the servers themselves.`,
  '',
  '| server | seconds | cacheFor | requests served | health queries (server-side) | per second | one per cacheFor would be |',
  '|---|--:|--:|--:|--:|--:|--:|',
  ...rows.map((r) => `| ${r.kind} | ${r.seconds} | ${r.cacheFor} ms | ${r.requests} | ${r.serverQueries} | ${r.perSecond.toFixed(1)} | ${r.expected.toFixed(0)} |`),
  ''
]
writeFileSync(join(root, 'bench/results/datastores.json'), JSON.stringify({ node: process.version, figures: rows }, null, 2) + '\n')
writeFileSync(join(root, 'bench/results/datastores.md'), lines.join('\n'))
process.stdout.write(lines.join('\n'))
