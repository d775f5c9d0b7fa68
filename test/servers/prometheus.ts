// A throwaway Prometheus server for the tests (Debian's prometheus package): 127.0.0.1 on a free
// port (it binds port 0 itself), its own temporary folder for the configuration and the TSDB,
// scraping one target every second, and its HTTP API's instant queries.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { listeningPorts, scratchDir, waitFor } from './common.js'
import { logTail, requireBinary, type ServerProcess, spawnServer, stopServer } from './datastore.js'

export interface PrometheusServer {
  /** http://127.0.0.1:port */
  readonly base: string
  /** The samples of an instant query (`/api/v1/query`): each series' labels and value. */
  query: (promql: string) => Promise<Array<{ metric: Record<string, string>, value: number }>>
  /** Stops the server and removes its folder. */
  stop: () => Promise<void>
}

/** Starts Prometheus scraping `target` (`127.0.0.1:port`) at `metricsPath` every second. */
export async function startPrometheus (target: string, metricsPath = '/metrics'): Promise<PrometheusServer> {
  const binary = requireBinary('/usr/bin/prometheus', 'prometheus')
  const dir = await scratchDir('prometheus')
  const config = join(dir.path, 'prometheus.yml')
  const logFile = join(dir.path, 'prometheus.log')
  let base = ''
  let server: ServerProcess | undefined
  try {
    await writeFile(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: orders',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
      ''
    ].join('\n'))
    // Port 0: it binds a free port itself, read back from the sockets it listens on.
    server = spawnServer(binary, [
      `--config.file=${config}`, `--storage.tsdb.path=${join(dir.path, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=warn'
    ], logFile)
    const started = server
    const port = await waitFor('Prometheus to listen', async () => {
      if (started.child.exitCode !== null) throw new Error(`prometheus exited with ${started.child.exitCode}: ${await logTail(logFile)}`)
      return (await listeningPorts(started.child.pid as number))[0]
    }, 60_000, 50)
    base = `http://127.0.0.1:${port}`
    await waitFor('Prometheus to be ready', async () => {
      if (started.child.exitCode !== null) throw new Error(`prometheus exited with ${started.child.exitCode}: ${await logTail(logFile)}`)
      return (await fetch(`${base}/-/ready`)).ok
    }, 60_000, 100)
  } catch (error) {
    if (server !== undefined) await stopServer(server, 'SIGTERM')
    await dir.remove()
    throw error
  }
  const running = server
  return {
    base,
    query: async (promql) => {
      const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = await response.json() as { status: string, error?: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
      if (body.status !== 'success') throw new Error(`the query ${promql} failed: ${String(body.error)}`)
      return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }))
    },
    stop: async () => {
      await stopServer(running, 'SIGTERM')
      await dir.remove()
    }
  }
}
