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
}

export interface CheckDefinition extends CheckOptions {
  check: CheckFunction
}

/** The latest reading of one check. */
export interface Reading {
  readonly entries: HealthCheckEntry[]
  /** The worst status among the entries. */
  readonly status: 'pass' | 'warn' | 'fail'
  /** performance.now() when the reading arrived. */
  readonly at: number
}
