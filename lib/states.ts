/** The service states, with the values the health document shows. */
export const State = {
  WARMUP: 'Warming up',
  WORK: 'Working',
  SHUTDOWN: 'Shutting down',
  NOINFO: 'No information'
} as const
// A value and a type of one name, like an enum, but plain strings at run time.
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type State = typeof State[keyof typeof State]

/** The three statuses of draft-inadarei-api-health-check-06, worst last. */
export const Status = {
  PASS: 'pass',
  WARN: 'warn',
  FAIL: 'fail'
} as const
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type Status = typeof Status[keyof typeof Status]

const stateValues = new Set<unknown>(Object.values(State))

export function isState (value: unknown): value is State {
  return stateValues.has(value)
}

/** What each state reports on its own, before any dependency check is counted. */
export const stateStatus: Readonly<Record<State, Status>> = {
  [State.WORK]: Status.PASS,
  [State.WARMUP]: Status.WARN,
  [State.SHUTDOWN]: Status.WARN,
  [State.NOINFO]: Status.FAIL
}

/** The note of each status, as the health document says it. */
export const statusNotes: Readonly<Record<Status, string>> = {
  [Status.PASS]: 'Service is running',
  [Status.WARN]: 'Service is not healthy, it is warming up or shutting down',
  [Status.FAIL]: 'No information about the service'
}

const severity: Readonly<Record<Status, number>> = { pass: 0, warn: 1, fail: 2 }

/** The worse of two statuses: fail > warn > pass. */
export function worstStatus (a: Status, b: Status): Status {
  return severity[b] > severity[a] ? b : a
}
