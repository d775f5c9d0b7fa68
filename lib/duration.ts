/** The longest delay a Node timer takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** What is wrong with a duration option, or undefined when it is a whole number of ms a timer takes. */
export function millisecondsProblem (value: unknown, min: number): string | undefined {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_TIMER_MS
    ? undefined
    : `must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`
}
