import { Status } from '../states.js'

// Statuses as the rings' rows hold them: one byte each.

const statuses: readonly Status[] = [Status.PASS, Status.WARN, Status.FAIL]

/** No status: the `from` of a check's first reading. */
export const NO_STATUS = 3

export const statusCode = (status: Status): number => status === Status.PASS ? 0 : status === Status.WARN ? 1 : 2

export const statusOf = (code: number | undefined): Status => statuses[code as number] as Status
