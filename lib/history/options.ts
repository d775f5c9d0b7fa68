import { firstMistake, isPlainObject, type Rule } from '../rules.js'

export interface HistorySizes {
  /** Readings kept per check. */
  readings: number
  /** Changes kept per check, and of the overall status. */
  changes: number
}

// The `history` and `statusPage` options: their types, defaults and rules (lib/options.ts
// wires them in beside the others).

export interface HistoryOptions {
  /**
   * Readings kept per check.
   * @default 3600 (an hour of readings at the default cacheFor of 1 s)
   */
  readings?: number
  /**
   * Status changes kept per check, and of the overall status.
   * @default 100
   */
  changes?: number
}

export interface StatusPageOptions {
  /**
   * Where the page is served (under `prefix`); its data at `{path}/data`.
   * @default `{path}/ui`
   */
  path?: string
  /**
   * Seconds between the page's refreshes.
   * @default 5
   */
  refresh?: number
}

export interface ResolvedStatusPage {
  /** The page's path below the prefix. */
  path: string
  refresh: number
}

const defaults = {
  readings: 3600,
  changes: 100,
  /** Below the health document's path. */
  pagePath: '/ui',
  refresh: 5
} as const

/** The most of each a ring may keep: a mistyped size must not reserve gigabytes per check. */
const limits = { readings: 1_000_000, changes: 100_000, refresh: 3600 }

const count = (max: number): Rule => (value) =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max ? undefined : `must be an integer from 1 to ${max}`

const historyRules: Record<keyof HistoryOptions, Rule> = { readings: count(limits.readings), changes: count(limits.changes) }

/** A static path, as a group's: no parameter, wildcard, query, fragment, percent, space or control character. */
const routePath: Rule = (value) =>
  typeof value === 'string' && value.startsWith('/') && !/[\s:*?#%]|\p{Cc}/u.test(value)
    ? undefined
    : 'must be a path that starts with "/", with no ":", "*", "?", "#", "%", white space or control character'

const pageRules: Record<keyof StatusPageOptions, Rule> = { path: routePath, refresh: count(limits.refresh) }

/** What is wrong with an object option, or undefined: `sets readings: it must be...` or `has an unknown option "x"`. */
function objectProblem (value: unknown, rules: Record<string, Rule>, what: string): string | undefined {
  if (typeof value === 'boolean') return undefined
  if (!isPlainObject(value)) return `must be a boolean or ${what}`
  const mistake = firstMistake(value, rules)
  if (mistake === undefined) return undefined
  return mistake.problem === undefined
    ? `has an unknown option "${mistake.key}" (expected ${Object.keys(rules).join(', ')})`
    : `sets ${mistake.key}: it ${mistake.problem}`
}

export const historyRule: Rule = (value) => objectProblem(value, historyRules, '{ readings, changes }')
export const statusPageRule: Rule = (value) => objectProblem(value, pageRules, '{ path, refresh }')

/** The sizes of the rings; undefined when the history is off. */
export function resolveHistory (given: boolean | HistoryOptions | undefined): HistorySizes | undefined {
  if (given === false) return undefined
  const sizes = given === true || given === undefined ? {} : given
  return { readings: sizes.readings ?? defaults.readings, changes: sizes.changes ?? defaults.changes }
}

/**
 * The status page's path and refresh; undefined when it is off (the default). It shows the
 * history, so it needs it: with `history: false` it is a mistake, reported as `statusPage`'s.
 */
export function resolveStatusPage (
  given: boolean | StatusPageOptions | undefined, healthPath: string, history: HistorySizes | undefined
): { page?: ResolvedStatusPage, problem?: string } {
  if (given === undefined || given === false) return {}
  if (history === undefined) return { problem: 'needs the history, which history: false turns off' }
  const page = given === true ? {} : given
  return { page: { path: page.path ?? healthPath.replace(/\/+$/, '') + defaults.pagePath, refresh: page.refresh ?? defaults.refresh } }
}
