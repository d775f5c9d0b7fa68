// The metrics the options ask for, each stack loaded only then.
import type { FiguresSource } from './figures.js'
import type { OpenTelemetryOptions } from './open-telemetry.js'
import type { PrometheusOptions } from './prometheus.js'

/** Starts the metrics asked for, adding to `stops` what stops each (so that one started before another fails is stopped too). */
export async function startMetrics (
  source: FiguresSource, { openTelemetry, prometheus }: { openTelemetry?: OpenTelemetryOptions, prometheus?: PrometheusOptions },
  stops: Array<() => void>
): Promise<void> {
  if (prometheus !== undefined) {
    const { startPrometheus } = await import('./prometheus.js')
    stops.push(await startPrometheus(source, prometheus))
  }
  if (openTelemetry !== undefined) {
    const { startOpenTelemetry } = await import('./open-telemetry.js')
    stops.push(await startOpenTelemetry(source, openTelemetry))
  }
}
