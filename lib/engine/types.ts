import type { FastifyBaseLogger } from 'fastify'
import type { HealthCheckEntry, HealthLinks } from '../schema.js'
import type { ProbeName } from '../views.js'

export type { ProbeName }

/** One component detail as a check returns it: every field of the draft typed, extra keys allowed. */
export interface ComponentDetail {
  componentId?: string
  componentType?: 'component' | 'datastore' | 'system' | (string & {})
  observedValue?: unknown
  observedUnit?: string
  /** pass, warn or fail; the readers' aliases ok/up and error/down are accepted too. */
  status?: 'pass' | 'warn' | 'fail' | 'ok' | 'up' | 'error' | 'down' | (string & {})
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

/** A dependency check. `signal` aborts when the check times out or the server closes. */
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
   * When set, the check runs in the background every `interval` ms and requests only read it.
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

export interface CheckDefinition extends CheckOptions {
  check: CheckFunction
}

/** How a check counts in the answers, given its latest readings and its thresholds. */
export interface Verdict {
  /** The status the check counts with: the reading's, unless a threshold holds it back. */
  readonly status: 'pass' | 'warn' | 'fail'
  /**
   * Set while the latest reading does not count yet: how many readings like it came in a row,
   * of how many it takes (failing ones when it fails, passing ones when it counts as failing).
   */
  readonly held?: { readonly streak: number, readonly threshold: number }
}

/** The latest reading of one check. */
export interface Reading {
  readonly entries: HealthCheckEntry[]
  /** The worst status among the entries. */
  readonly status: 'pass' | 'warn' | 'fail'
  /** performance.now() when the reading arrived. */
  readonly at: number
}
