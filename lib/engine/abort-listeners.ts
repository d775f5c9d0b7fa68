import { getEventListeners } from 'node:events'
import { types } from 'node:util'

// How many `abort` listeners a signal has, and how many composites are tied to it, which decide
// whether a run's signal may serve the next run (runner.ts). events.getEventListeners() says exactly, but it loads a module, walks
// prototypes and builds an array at every call: on the signals of a thousand checks, gone cold
// in the 100 ms between their runs, that cost about 1.2 µs a reading, most of a reading's
// difference from a bare timer loop (bench/README.md). Node.js keeps its listeners in a map on
// the signal under an internal symbol; that map is read directly, but only where it answers as
// getEventListeners() does on a probe, so that a Node.js line that keeps them otherwise falls
// back to the exact call rather than miscount.

type Count = (signal: AbortSignal) => number

const exact: Count = (signal) => getEventListeners(signal, 'abort').length

/** The `abort` listeners in a map of a signal's listeners by event type (see ListenerTable). */
const countListeners = (table: ListenerTable): number => table.get('abort')?.size ?? 0

/** The own symbol of `signal` that Node.js describes as `description` (its internals are keyed so). */
const symbolDescribed = (signal: AbortSignal, description: string): symbol | undefined =>
  Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === description)

/**
 * A counter of a signal's `abort` listeners: the map Node.js keeps under the symbol described as
 * `internal`, when a probe shows that it counts as getEventListeners() does; else that function.
 */
export function abortListenerCounter (internal = 'kEvents'): Count {
  const probe = new AbortController().signal
  const key = symbolDescribed(probe, internal)
  if (key === undefined) return exact
  // Node.js 24 and later make the map with the first listener: none yet means no listener.
  const direct: Count = (signal) => {
    const table = (signal as unknown as Record<symbol, ListenerTable | undefined>)[key]
    return table === undefined ? 0 : countListeners(table)
  }
  const controller = new AbortController()
  let heard = false
  const listener = (): void => { heard = true }
  try {
    const before = direct(probe)
    probe.addEventListener('abort', listener)
    const during = direct(probe)
    probe.removeEventListener('abort', listener)
    const after = direct(probe)
    // And the listener it counts is the one an abort runs.
    controller.signal.addEventListener('abort', listener, { once: true })
    const counted = direct(controller.signal)
    controller.abort()
    return before === 0 && during === 1 && after === 0 && counted === 1 && heard ? direct : exact
  } catch {
    // Something else under that name (not a map): the exact call.
    return exact
  }
}

export const abortListeners = abortListenerCounter()

/** What is tied to a signal is not known: count it as tied. */
const unknownTies: Count = () => Infinity

/**
 * A counter of the composites AbortSignal.any() made from a signal, which hold on to it without a
 * listener (Node.js 20 keeps their entries on the signal for good): the set Node.js keeps under
 * the symbol described as `internal`, when a probe shows that it counts them; else a counter that
 * says Infinity, as if something were always tied (Node.js 24 keeps no such set on the signal).
 */
export function abortTieCounter (internal = 'kDependantSignals'): Count {
  try {
    const { signal } = new AbortController()
    const untied = new AbortController().signal
    const composite = AbortSignal.any([signal])
    const key = symbolDescribed(signal, internal)
    if (key === undefined) return unknownTies
    const direct: Count = (tied) => (tied as unknown as Record<symbol, { size: number } | undefined>)[key]?.size ?? 0
    // The composite stays reachable until the probe has counted it.
    return direct(signal) === 1 && direct(untied) === 0 && !composite.aborted ? direct : unknownTies
  } catch {
    // Something else under that name (no set), or no AbortSignal.any: count as tied.
    return unknownTies
  }
}

export const abortTies = abortTieCounter()

/** The listeners of a signal by event type, as Node.js keeps them. */
export type ListenerTable = Map<string, { size: number } | undefined>

const noTable = (): undefined => undefined

/**
 * A reader of the map Node.js keeps a signal's listeners in (under the symbol described as
 * `internal`), for lines that make it with the signal and keep it for good (Node.js 20 and 22),
 * which a probe on `controller` shows; else a reader that finds none. On Node.js 20 every signal has a shape of
 * its own, so that reading any of its properties is a megamorphic lookup that misses V8's
 * caches: a runner reads the map once per signal and keeps it, where reading it at every run
 * cost a thousand checks a tenth of their readings' CPU (bench/README.md).
 */
export function listenerTableReader (internal = 'kEvents', controller = new AbortController()): (signal: AbortSignal) => ListenerTable | undefined {
  const { signal } = controller
  const key = symbolDescribed(signal, internal)
  if (key === undefined) return noTable
  const read = (of: AbortSignal): ListenerTable | undefined => {
    const table = (of as unknown as Record<symbol, unknown>)[key]
    // isMap: Node.js's own maps are not of this realm's Map class.
    return types.isMap(table) ? table as ListenerTable : undefined
  }
  const table = read(signal)
  if (table === undefined) return noTable
  let heard = false
  signal.addEventListener('abort', () => { heard = true }, { once: true })
  const counted = countListeners(table)
  controller.abort()
  return read(signal) === table && counted === 1 && heard ? read : noTable
}

/** The `abort` listeners of `signal`, from `table` when its runner kept one (listenerTableOf). */
export const listenersOf = (signal: AbortSignal, table: ListenerTable | undefined): number =>
  table === undefined ? abortListeners(signal) : countListeners(table)

export const listenerTableOf = listenerTableReader()
