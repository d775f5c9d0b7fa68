// The alerting pipeline of the monitoring tests, on loopback: a Prometheus server (Debian's
// prometheus) that scrapes several targets in named jobs every second, evaluates rule files every
// second and sends its alerts to an Alertmanager (Debian's prometheus-alertmanager), which
// notifies a webhook receiver run in the test process. Each server runs under
// `setpriv --pdeathsig KILL`, so that it dies with the test process even when that is killed.
import { createServer } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, scratchDir, waitFor } from './common.js'
import { requireBinary, type ServerProcess, spawnServer, stopServer } from './datastore.js'

const defaults = {
  /** How long a server may take to answer ready. */
  startTimeout: 60_000,
  /** The rules' `for:` durations in the test copy: two evaluations. */
  shortFor: '2s'
}

/** A server of the pipeline: its base URL, and what stops it and removes its folder. */
interface Started {
  base: string
  stop: () => Promise<void>
}

/**
 * Writes `files(dir)` into a new folder, spawns `binary` (killed when this process dies) with
 * `args(listen, dir)`, and waits until `readyPath` answers; on a failure, stops what it started
 * and removes the folder.
 */
async function startServer (
  name: string, binary: string, files: (dir: string) => Record<string, string>, args: (listen: string, dir: string) => string[], readyPath: string
): Promise<Started> {
  const setpriv = requireBinary('/usr/bin/setpriv', 'util-linux')
  const dir = await scratchDir(name)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let server: ServerProcess | undefined
  try {
    for (const [file, text] of Object.entries(files(dir.path))) await writeFile(join(dir.path, file), text)
    server = spawnServer(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args(`127.0.0.1:${port}`, dir.path)], join(dir.path, `${name}.log`))
    const started = server
    await waitFor(`${name} to be ready`, async () => {
      if (started.child.exitCode !== null) throw new Error(`${name} exited with ${started.child.exitCode}`)
      return (await fetch(`${base}${readyPath}`)).ok
    }, defaults.startTimeout, 100)
  } catch (error) {
    if (server !== undefined) await stopServer(server, 'SIGTERM')
    await dir.remove()
    throw error
  }
  const running = server
  return {
    base,
    stop: async () => {
      await stopServer(running, 'SIGTERM')
      await dir.remove()
    }
  }
}

/** One alert as the webhook receives it. */
export interface ReceivedAlert {
  status: 'firing' | 'resolved'
  labels: Record<string, string>
  annotations: Record<string, string>
}

export interface WebhookReceiver {
  /** http://127.0.0.1:port/alerts */
  readonly url: string
  /** Every alert of every notification so far, in order. */
  readonly received: ReceivedAlert[]
  /** Resolves with the first alert received that `matches` (bounded by `timeout` ms). */
  waitForAlert: (what: string, matches: (alert: ReceivedAlert) => boolean, timeout?: number) => Promise<ReceivedAlert>
  close: () => Promise<void>
}

/** An HTTP server on loopback that keeps the alerts of Alertmanager's webhook notifications. */
export async function startWebhookReceiver (): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => { body += chunk.toString() })
    request.on('end', () => {
      try {
        received.push(...(JSON.parse(body) as { alerts: ReceivedAlert[] }).alerts)
        response.writeHead(200).end()
      } catch {
        response.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received,
    waitForAlert: (what, matches, timeout = 30_000) => waitFor(what, () => received.find(matches), timeout, 100),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

/**
 * Alertmanager sending every alert to `webhookUrl` at once (group wait and interval of 1 s),
 * resolved ones too; its cluster port is off, so that it listens on loopback only.
 */
export async function startAlertmanager (webhookUrl: string): Promise<Started> {
  const binary = requireBinary('/usr/bin/prometheus-alertmanager', 'prometheus-alertmanager')
  const config = [
    'route:',
    '  receiver: test',
    "  group_by: ['...']",
    '  group_wait: 1s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: test',
    '    webhook_configs:',
    `      - url: '${webhookUrl}'`,
    '        send_resolved: true',
    ''
  ].join('\n')
  return await startServer('alertmanager', binary, () => ({ 'alertmanager.yml': config }), (listen, dir) => [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=${listen}`, '--cluster.listen-address=', '--log.level=warn'
  ], '/-/ready')
}

/** The samples of an instant query: each series' labels and value. */
export type QueryResult = Array<{ metric: Record<string, string>, value: number }>

export interface AlertingPrometheus {
  /** http://127.0.0.1:port */
  readonly base: string
  /** An instant query (`/api/v1/query`) now. */
  query: (promql: string) => Promise<QueryResult>
  stop: () => Promise<void>
}

/**
 * Rule files as the tests load them: the shipped text with every `for:` shortened to two
 * evaluations, so that an alert fires within seconds.
 */
export function shortenFor (rules: string, duration = defaults.shortFor): string {
  return rules.replace(/^(\s+for:) \S+$/gm, `$1 ${duration}`)
}

/**
 * Prometheus scraping `jobs` (job name → `127.0.0.1:port` targets) every second, evaluating
 * `rules` (file name → text) every second, and sending its alerts at once to `alertmanager`
 * (`127.0.0.1:port`) when one is given.
 */
export async function startAlertingPrometheus (
  { jobs, rules, alertmanager }: { jobs: Record<string, string[]>, rules: Record<string, string>, alertmanager?: string }
): Promise<AlertingPrometheus> {
  const binary = requireBinary('/usr/bin/prometheus', 'prometheus')
  // JSON is YAML.
  const config = (dir: string): string => JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: Object.keys(rules).map((file) => join(dir, file)),
    alerting: { alertmanagers: alertmanager === undefined ? [] : [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: Object.entries(jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] }))
  }, null, 2)
  const server = await startServer('prometheus', binary, (dir) => ({ ...rules, 'prometheus.yml': config(dir) }), (listen, dir) => [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${listen}`, '--rules.alert.resend-delay=1s', '--log.level=warn'
  ], '/-/ready')
  return {
    ...server,
    query: async (promql) => {
      const response = await fetch(`${server.base}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = await response.json() as { status: string, error?: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
      if (body.status !== 'success') throw new Error(`the query ${promql} failed: ${String(body.error)}`)
      return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }))
    }
  }
}
