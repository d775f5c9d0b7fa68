// The figures as prom-client metrics on the user's Registry (fastify-metrics' or their own):
// gauges whose collect() reads the snapshot at scrape time, and a histogram of run durations.
// prom-client is an optional peer, loaded only for the `prometheus` option. A registry takes
// any metric object, so one from another copy of prom-client works as well.
//
// The types are structural, so that the package's declarations never need prom-client; method
// syntax on purpose, so that prom-client's Registry is assignable (types/index.tst.ts checks it).
import { FST_HEALTH_METRIC_TAKEN } from '../errors.js'
import { DURATION_BUCKETS, eachStatePoint, type FiguresSource, loadPeer, STATUSES } from './figures.js'

/** A metric as a registry holds it (opaque here). */
export interface PrometheusMetric {}

/** The members of a prom-client `Registry` this plugin uses. */
export interface PrometheusRegistry {
  registerMetric (metric: PrometheusMetric): void
  getSingleMetric (name: string): PrometheusMetric | undefined
  removeSingleMetric (name: string): void
}

/** The `prometheus` option. */
export interface PrometheusOptions {
  /** The prom-client Registry the metrics are registered on (e.g. `register`, prom-client's default one). */
  registry: PrometheusRegistry
}

/** The metrics' names and labels (see the README's "Metrics and events"). */
const PROMETHEUS_NAMES = {
  status: 'health_status',
  checkStatus: 'health_check_status',
  checkDuration: 'health_check_duration_seconds',
  statusLabel: 'status',
  checkLabel: 'check'
} as const

type Labels = Record<string, string>

const defaults = {
  /** The histogram's checks are swept for removed ones once there are this many (then twice as many as were left). */
  sweepAt: 64
} as const

interface Gauge {
  reset (): void
  set (labels: Labels, value: number): void
}

interface Histogram {
  observe (labels: Labels, value: number): void
  remove (labels: Labels): void
}

/** What this module takes from prom-client. */
interface PromClient {
  Gauge: new (configuration: { name: string, help: string, labelNames: string[], registers: PrometheusRegistry[], collect: () => void }) => Gauge
  Histogram: new (configuration: { name: string, help: string, labelNames: string[], buckets: number[], registers: PrometheusRegistry[], collect: () => void }) => Histogram
}

/**
 * Registers the metrics on `registry`; a name the registry has already fails with
 * FST_HEALTH_METRIC_TAKEN, before anything is registered. Returns what takes them off again
 * (the instance closed), so that a new instance can register on the same registry.
 */
export async function startPrometheus (source: FiguresSource, { registry }: PrometheusOptions): Promise<() => void> {
  const names = PROMETHEUS_NAMES
  const all = [names.status, names.checkStatus, names.checkDuration]
  const taken = all.find((name) => registry.getSingleMetric(name) !== undefined)
  if (taken !== undefined) throw new FST_HEALTH_METRIC_TAKEN(taken)
  const { Gauge, Histogram } = await loadPeer<PromClient>('prom-client', 'prometheus')

  // Read at scrape time, each gauge from a snapshot of its own (so that either can be read alone).
  const none = (): void => {}
  const status: Gauge = new Gauge({
    name: names.status,
    help: 'The service\'s health status (application/health+json): 1 for the current status, 0 for the others',
    labelNames: [names.statusLabel],
    registers: [registry],
    collect: () => {
      status.reset()
      eachStatePoint(source, (value, point) => { status.set({ [names.statusLabel]: value }, point) }, none)
    }
  })
  const checkStatus: Gauge = new Gauge({
    name: names.checkStatus,
    help: 'Each check\'s status as it counts (thresholds applied): 1 for the current status, 0 for the others',
    labelNames: [names.checkLabel, names.statusLabel],
    registers: [registry],
    collect: () => {
      // Reset first: a removed check has no series left.
      checkStatus.reset()
      eachStatePoint(source, none, (name, value, point) => { checkStatus.set({ [names.checkLabel]: name, [names.statusLabel]: value }, point) })
    }
  })
  // A removed check's series go: at the next scrape, and as names come and go between scrapes,
  // so that checks added and removed by the thousand leave series (and memory) for the live ones.
  /** The checks the histogram has series of. */
  const counted = new Set<string>()
  let sweepAt: number = defaults.sweepAt
  const sweep = (): void => {
    const live = new Set(source.snapshot().checks.map(({ name }) => name))
    for (const name of counted) {
      if (live.has(name)) continue
      counted.delete(name)
      for (const value of STATUSES) duration.remove({ [names.checkLabel]: name, [names.statusLabel]: value })
    }
    sweepAt = Math.max(defaults.sweepAt, counted.size * 2)
  }
  const duration: Histogram = new Histogram({
    name: names.checkDuration,
    help: 'How long each check run took, to its reading (a run that timed out: its timeout)',
    labelNames: [names.checkLabel, names.statusLabel],
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
    collect: sweep
  })
  const unsubscribe = source.onRun(({ name, status: value, durationMs }) => {
    duration.observe({ [names.checkLabel]: name, [names.statusLabel]: value }, durationMs / 1000)
    if (!counted.has(name) && counted.add(name).size >= sweepAt) sweep()
  })
  return () => {
    unsubscribe()
    for (const name of all) registry.removeSingleMetric(name)
  }
}
