import { getEventListeners } from 'node:events'

// How many `abort` listeners a signal has, which decides whether a run's signal may serve the
// next run (runner.ts). events.getEventListeners() says exactly, but it loads a module, walks
// prototypes and builds an array at every call: on the signals of a thousand checks, gone cold
// in the 100 ms between their runs, that cost about 1.2 µs a reading, most of a reading's
// difference from a bare timer loop (bench/README.md). Node.js keeps its listeners in a map on
// the signal under an internal symbol; that map is read directly, but only where it answers as
// getEventListeners() does on a probe, so that a Node.js line that keeps them otherwise falls
// back to the exact call rather than miscount.

type Count = (signal: AbortSignal) => number

const exact: Count = (signal) => getEventListeners(signal, 'abort').length

/**
 * A counter of a signal's `abort` listeners: the map Node.js keeps under the symbol described as
 * `internal`, when a probe shows that it counts as getEventListeners() does; else that function.
 */
export function abortListenerCounter (internal = 'kEvents'): Count {
  const probe = new AbortController().signal
  const key = Object.getOwnPropertySymbols(probe).find((symbol) => symbol.description === internal)
  if (key === undefined) return exact
  // Node.js 24 and later make the map with the first listener: none yet means no listener.
  const direct: Count = (signal) => (signal as unknown as Record<symbol, Map<string, { size: number }> | undefined>)[key]?.get('abort')?.size ?? 0
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
