import type { FastifyBaseLogger } from 'fastify'
import type { HealthCheckEntry, HealthLinks } from '../schema.js'
import type { State, Status } from '../states.js'
import type { ProbeName } from '../views.js'

export type { ProbeName }

/** The statuses a check may return: the draft's three, and the aliases its readers accept. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'ok' | 'up' | 'error' | 'down'

/** One component detail as a check returns it: every field of the draft typed, extra keys allowed. */
export interface ComponentDetail {
  componentId?: string
  componentType?: 'component' | 'datastore' | 'system' | (string & {})
  observedValue?: unknown
  observedUnit?: string
  /** pass, warn or fail; the readers' aliases ok/up and error/down are accepted too. */
  status?: CheckStatus
  affectedEndpoints?: string[]
  /** ISO 8601 date-time of the reading (or a Date); filled in when left out. */
  time?: string | Date
  output?: string
  links?: HealthLinks
  [key: string]: unknown
}

/** What a check may return: one detail, one per node, or nothing (meaning pass). */
export type CheckResult = ComponentDetail | ComponentDetail[] | undefined | null | void

/** What a check is given beside its signal. */
export interface CheckContext {
  /** The instance's logger, bound to the check's name. */
  log: FastifyBaseLogger
}

/**
 * A dependency check. `signal` aborts when the check times out or the server closes. It belongs
 * to the run: a run that leaves it untouched (not aborted, no listener) may hand it to the next run.
 */
export type CheckFunction = (signal: AbortSignal, context: CheckContext) => CheckResult | Promise<CheckResult>

export interface CheckOptions {
  /**
   * Milliseconds before the run is aborted and reported as `fail`.
   * @default 2000
   */
  timeout?: number
  /**
   * A failing non-critical check makes the answer `warn`, not `fail`.
   * @default true
   */
  critical?: boolean
  /**
   * Milliseconds a reading is reused before a request starts a new run.
   * @default 1000
   */
  cacheFor?: number
  /**
   * When set, the check runs in the background `interval` ms after its last run ended (up to 2%
   * later, at most 1 s, so that checks due together share one timer), and requests only read it.
   * @default undefined (run when a request finds the reading stale)
   */
  interval?: number
  /**
   * The probes this check counts for, beside the health document.
   * @default the readiness probe only
   */
  probes?: ProbeName[]
  /**
   * Tags the `groups` option can select the check by: `include: ['tag:critical']`.
   * @default []
   */
  tags?: string[]
  /**
   * Failing readings in a row before the check counts as failing (a Kubernetes probe's
   * `failureThreshold`). Until then a failing reading counts as `warn`; its entry still says `fail`.
   * Only `fail` is failing: a `warn` reading breaks the run.
   * @default 1
   */
  failureThreshold?: number
  /**
   * Passing readings in a row before a check that counts as failing counts as passing again
   * (a Kubernetes probe's `successThreshold`). A `warn` reading passes here.
   * @default 1
   */
  successThreshold?: number
  /**
   * Milliseconds past which a run is slow: logged as a warning once each time runs turn slow,
   * not again until a run is fast again. A run that times out is slow, at its timeout.
   * @default undefined (off)
   */
  slowThreshold?: number
}

/**
 * A check with its options, and what it holds: `close()` releases it (listeners added to a
 * client, a channel). The ready-made checks are of this form.
 */
export interface CheckDefinition extends CheckOptions {
  check: CheckFunction
  /** Called once when the check is removed or the instance closes; may be async. */
  close?: () => void | Promise<void>
}

/**
 * One reading of a check, immutable: its entries, its own status and how it counts, all taken
 * when it arrived.
 */
export interface Reading {
  readonly entries: readonly HealthCheckEntry[]
  /** The worst status among the entries. */
  readonly status: Status
  /**
   * How the check counts in the answers with this reading: its own status, unless a threshold
   * holds it back; a failing check that is not critical counts as warn.
   */
  readonly counted: Status
  /**
   * Set while the reading does not count yet: how many readings like it came in a row, of how
   * many it takes (failing ones when it fails, passing ones when the check counts as failing).
   */
  readonly held?: { readonly streak: number, readonly threshold: number }
  /** performance.now() when the reading arrived. */
  readonly at: number
  /** Date.now() when the reading arrived. */
  readonly time: number
  /** How long the run took, in ms (a run that timed out took its timeout). */
  readonly durationMs: number
}

/** A check run whose reading was recorded. */
export interface CheckRun {
  name: string
  /** The reading's own status (before thresholds). */
  status: Status
  durationMs: number
  /** How the check counts in the answers now (thresholds applied; a failing non-critical check: warn). */
  counted: Status
  /** How it counted before this reading; undefined for its first. */
  previous: Status | undefined
  /** The reading's entries, as the answers show them; never changed (do not change them). */
  entries: readonly HealthCheckEntry[]
  /** When the reading arrived (Date.now()). */
  at: number
}

/** What changed the overall status: a check's reading or removal, or the service's state. */
export type StatusCause = { check: string } | { state: State }

/** A change of the overall status, and its cause. */
export interface StatusChange {
  /** When it changed (Date.now()). */
  at: number
  from: Status
  to: Status
  cause: StatusCause
}

/** The latest status of the service and of each check that has a reading, as the answers count them. */
export interface HealthSnapshot {
  status: Status
  checks: Array<{ name: string, status: Status }>
}
