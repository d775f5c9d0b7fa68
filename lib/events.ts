// Status changes published on Node's diagnostics_channel, as undici and Fastify publish theirs:
// one channel for the overall status, one for each check's counted status. Nothing is built or
// published while a channel has no subscriber. Built on onChange and the lifecycle's onRun().
// A run costs a comparison, never a look at the other checks.
import diagnosticsChannel from 'node:diagnostics_channel'
import type { HealthController, HealthLifecycle } from './controller.js'
import type { Status } from './states.js'

/** The channel of overall status changes: a `HealthStatusMessage` for each, as onChange sees them. */
export const STATUS_CHANNEL = 'fastify-health:status'
/** The channel of each check's counted status changes: a `HealthCheckStatusMessage` for each. */
export const CHECK_CHANNEL = 'fastify-health:check'

export interface HealthStatusMessage {
  /** The plugin's `serviceName`. */
  serviceName: string
  current: Status
  previous: Status
}

export interface HealthCheckStatusMessage {
  serviceName: string
  /** The check's name. */
  check: string
  /** The status the check counts with (thresholds applied; a failing non-critical check: warn). */
  current: Status
  /** undefined for a check's first reading. */
  previous: Status | undefined
}

const statusChannel = diagnosticsChannel.channel(STATUS_CHANNEL)
const checkChannel = diagnosticsChannel.channel(CHECK_CHANNEL)

/** Publishes the changes of one service's statuses from now on. */
export function publishChanges (health: HealthController, lifecycle: Pick<HealthLifecycle, 'onRun'>, serviceName: string): void {
  health.onChange((current, previous) => {
    if (statusChannel.hasSubscribers) statusChannel.publish({ serviceName, current, previous } satisfies HealthStatusMessage)
  })
  lifecycle.onRun(({ name, counted: current, previous }) => {
    if (current === previous || !checkChannel.hasSubscribers) return
    checkChannel.publish({ serviceName, check: name, current, previous } satisfies HealthCheckStatusMessage)
  })
}
