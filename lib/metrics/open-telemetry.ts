// The figures as OpenTelemetry instruments, on the user's MeterProvider or the global one of
// @opentelemetry/api (an optional peer, loaded only for `openTelemetry: true`). No SDK is ever
// started here: without one, the API's meters do nothing.
//
// The types are structural, the few members this module calls, so that the package's
// declarations never need @opentelemetry/api. Method syntax on purpose: the API's own types are
// assignable to these (the parameters are compared both ways), which types/index.tst.ts checks.
import { DURATION_BUCKETS, eachStatePoint, type FiguresSource, loadPeer, STATUSES } from './figures.js'

/** Attributes of one data point. */
export type OpenTelemetryAttributes = Record<string, string>

/** An instrument as a meter returns it (opaque here). */
export interface OpenTelemetryObservable {}

/** What a batch observable callback is given. */
export interface OpenTelemetryBatchObservableResult {
  observe (observable: OpenTelemetryObservable, value: number, attributes?: OpenTelemetryAttributes): void
}

export type OpenTelemetryBatchObservableCallback = (result: OpenTelemetryBatchObservableResult) => void

export interface OpenTelemetryHistogram {
  record (value: number, attributes?: OpenTelemetryAttributes): void
}

/** The members of an OpenTelemetry `Meter` this plugin uses. */
export interface OpenTelemetryMeter {
  createObservableGauge (name: string, options?: { description?: string, unit?: string }): OpenTelemetryObservable
  createHistogram (name: string, options?: { description?: string, unit?: string, advice?: { explicitBucketBoundaries?: number[] } }): OpenTelemetryHistogram
  addBatchObservableCallback (callback: OpenTelemetryBatchObservableCallback, observables: OpenTelemetryObservable[]): void
  removeBatchObservableCallback (callback: OpenTelemetryBatchObservableCallback, observables: OpenTelemetryObservable[]): void
}

/** An OpenTelemetry `MeterProvider` (of @opentelemetry/api or an SDK), as far as this plugin uses it. */
export interface OpenTelemetryMeterProvider {
  getMeter (name: string, version?: string): OpenTelemetryMeter
}

/** The `openTelemetry` option as an object. */
export interface OpenTelemetryOptions {
  /**
   * Where the instruments are created.
   * @default the global MeterProvider of @opentelemetry/api (`metrics.getMeterProvider()`)
   */
  meterProvider?: OpenTelemetryMeterProvider
}

/** The instruments' names and attributes (see the README's "Metrics and events"). */
const OPEN_TELEMETRY_NAMES = {
  status: 'health.status',
  checkStatus: 'health.check.status',
  checkDuration: 'health.check.duration',
  statusAttribute: 'health.status',
  checkAttribute: 'health.check.name'
} as const

/** The meter's instrumentation scope. */
const METER_NAME = 'fastify-health'

/** The global MeterProvider of @opentelemetry/api, which the user installs. */
async function globalMeterProvider (): Promise<OpenTelemetryMeterProvider> {
  const api = await loadPeer<{ metrics: { getMeterProvider: () => OpenTelemetryMeterProvider } }>('@opentelemetry/api', 'openTelemetry')
  return api.metrics.getMeterProvider()
}

/**
 * Creates the instruments: two observable gauges read at each collection (state sets of the
 * overall status and of each check), and a histogram of run durations in seconds. Returns what
 * stops them (the instance closed).
 */
export async function startOpenTelemetry (source: FiguresSource, options: OpenTelemetryOptions): Promise<() => void> {
  const provider = options.meterProvider ?? await globalMeterProvider()
  const meter = provider.getMeter(METER_NAME)
  const names = OPEN_TELEMETRY_NAMES
  const status = meter.createObservableGauge(names.status, {
    description: 'The service\'s health status (application/health+json): 1 for the current status, 0 for the others'
  })
  const checkStatus = meter.createObservableGauge(names.checkStatus, {
    description: 'Each check\'s status as it counts (thresholds applied): 1 for the current status, 0 for the others'
  })
  const duration = meter.createHistogram(names.checkDuration, {
    description: 'How long each check run took, to its reading (a run that timed out: its timeout)',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] }
  })
  const observables = [status, checkStatus]
  const checkPoint = (result: OpenTelemetryBatchObservableResult, name: string, value: string, point: 0 | 1): void => {
    result.observe(checkStatus, point, { [names.checkAttribute]: name, [names.statusAttribute]: value })
  }
  /** The checks the last collection observed. */
  let observed = new Set<string>()
  const observe: OpenTelemetryBatchObservableCallback = (result) => {
    const now = new Set<string>()
    eachStatePoint(source,
      (value, point) => { result.observe(status, point, { [names.statusAttribute]: value }) },
      (name, value, point) => {
        now.add(name)
        checkPoint(result, name, value, point)
      })
    // A check that is gone is not observed any more, and with delta temporality it disappears.
    // With cumulative temporality the JavaScript SDK goes on exporting the last value of every
    // attribute set it has seen: a removed check's series are observed at 0 once, so that what
    // stays says it has no status, never a stale 1.
    for (const name of observed) {
      if (!now.has(name)) for (const value of STATUSES) checkPoint(result, name, value, 0)
    }
    observed = now
  }
  meter.addBatchObservableCallback(observe, observables)
  const unsubscribe = source.onRun(({ name, status: value, durationMs }) => {
    duration.record(durationMs / 1000, { [names.checkAttribute]: name, [names.statusAttribute]: value })
  })
  return () => {
    unsubscribe()
    meter.removeBatchObservableCallback(observe, observables)
  }
}
