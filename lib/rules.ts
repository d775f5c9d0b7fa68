// The rules options are checked by, shared by the plugin's options, the check options and the
// process checks' settings: each returns what is wrong with a value, or undefined when it is fine.
import { probeNames } from './views.js'

export type Rule = (value: unknown) => string | undefined

/** The longest delay a Node timer takes; a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const text: Rule = (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string'

export const boolean: Rule = (value) => typeof value === 'boolean' ? undefined : 'must be a boolean'

/** A whole number of milliseconds from `min` that a timer takes. */
export const duration = (min: number): Rule => (value) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_TIMER_MS
    ? undefined
    : `must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`

/** The `probes` option of a check: the probes it counts for. */
export const probeList: Rule = (value) =>
  Array.isArray(value) && value.every((probe) => (probeNames as unknown[]).includes(probe))
    ? undefined
    : `must be an array of ${probeNames.map((probe) => `"${probe}"`).join(' and ')}`

/** The `tags` option of a check: what groups can select it by. */
export const tagList: Rule = (value) =>
  Array.isArray(value) && value.every((tag) => text(tag) === undefined) ? undefined : 'must be an array of non-empty strings'

/**
 * The first of `options`' keys that has no rule (`unknown`) or breaks its rule (`problem`);
 * keys set to undefined are left out, as if not given. Own keys only: `toString` is no option.
 */
export function firstMistake (options: Record<string, unknown>, rules: Record<string, Rule>):
{ key: string, problem?: string } | undefined {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(rules, key)) return { key }
    const problem = options[key] === undefined ? undefined : (rules[key] as Rule)(options[key])
    if (problem !== undefined) return { key, problem }
  }
  return undefined
}
