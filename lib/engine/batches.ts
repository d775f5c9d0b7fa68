import { performance } from 'node:perf_hooks'
import { MAX_TIMER_MS } from '../rules.js'

// One timer for the background runs that fall due at about the same time. A timer per check and
// per run cost more than a whole reading of a cheap check: Node.js makes a Timeout per call, and
// runs the microtasks after each timer on its own (bench/README.md, "CPU per reading"). Checks of
// the same interval that end within a short window of each other (2% of it, from 1 ms to 1 s)
// share the next timer, and their runs start in one callback.

const defaults = {
  /**
   * How late a run may start so that it can share a timer, as a fraction of its delay, from 1 ms
   * to `latest`: never earlier than its delay, at most 2% later (100 ms on a 5 s interval).
   */
  lateness: 0.02,
  /** The most a run may start late, however long its interval (an hourly check: 1 s, not 72). */
  latest: 1000
} as const

type Callback = () => void

/** Runs that share a timer: each callback once, in the order they joined, unless cancelled first. */
export interface Batch {
  readonly delay: number
  /** performance.now() time its timer is set for. */
  readonly due: number
  /**
   * In the order they joined; a cancelled or spent one is undefined. An array, not a Set: a
   * background loop joins one batch at a time, so nothing joins twice, and a Set's growth and
   * hashing cost a reading more than the rest of its scheduling. Cancelling (a removal, the
   * stop) is what looks a callback up.
   */
  readonly callbacks: Array<Callback | undefined>
  /** How many of `callbacks` are still to run. */
  waiting: number
  timer: NodeJS.Timeout | undefined
}

/** For each delay, the batch that runs still due within its window may join (the latest made). */
const open = new Map<number, Batch>()

/** The batch's timer is spent or cleared: it takes no more callbacks. */
function retire (batch: Batch): void {
  batch.timer = undefined
  if (open.get(batch.delay) === batch) open.delete(batch.delay)
}

function fire (batch: Batch): void {
  retire(batch)
  const { callbacks } = batch
  // A callback that cancels another of this batch (removeCheck() from a listener) stops it in time.
  for (let index = 0; index < callbacks.length; index++) {
    const callback = callbacks[index]
    if (callback === undefined) continue
    callbacks[index] = undefined
    batch.waiting--
    callback()
  }
}

/**
 * Calls `callback` once, `delay` ms after `now` or up to defaults.lateness of it later (at most
 * defaults.latest), sharing its timer with the other callbacks due in that window. The timer
 * never keeps the process alive. Returns the batch, for cancel(). `callback` must not be waiting
 * in a batch already.
 */
export function schedule (delay: number, callback: Callback, now = performance.now()): Batch {
  const batch = open.get(delay)
  if (batch !== undefined && batch.due >= now + delay) {
    batch.callbacks.push(callback)
    batch.waiting++
    return batch
  }
  // A whole number of ms, as timers count; never past the longest a timer takes (a longer one fires at once).
  const wait = Math.min(Math.ceil(delay + Math.min(defaults.latest, Math.max(1, delay * defaults.lateness))), MAX_TIMER_MS)
  const made: Batch = { delay, due: now + wait, callbacks: [callback], waiting: 1, timer: undefined }
  made.timer = setTimeout(fire, wait, made)
  made.timer.unref()
  open.set(delay, made)
  return made
}

/** Takes `callback` out of `batch` (if still there); a batch left with none clears its timer. */
export function cancel (batch: Batch | undefined, callback: Callback): void {
  if (batch === undefined) return
  const index = batch.callbacks.indexOf(callback)
  if (index === -1) return
  batch.callbacks[index] = undefined
  if (--batch.waiting > 0) return
  clearTimeout(batch.timer)
  retire(batch)
}
