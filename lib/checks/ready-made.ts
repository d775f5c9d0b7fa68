// What every ready-made factory returns: the check, and close() to release what it holds.
import type { CheckDefinition, CheckFunction } from '../engine/types.js'

/**
 * A ready-made check: `{ check, close }`, for `addCheck(name, readyMade)` or the `checks`
 * option (spread it to add options: `{ ...postgresCheck(pool), timeout: 500 }`). `close()`
 * releases what the check added to the app's client (listeners, a channel); the plugin calls it
 * on removeCheck() and when the instance closes. Calling it again does nothing.
 */
export interface ReadyMadeCheck extends CheckDefinition {
  close: () => Promise<void>
}

const nothingHeld = async (): Promise<void> => {}

/** `check` with a close() that runs `release` once, however often it is called. */
export function readyMade (check: CheckFunction, release?: () => void | Promise<void>): ReadyMadeCheck {
  if (release === undefined) return { check, close: nothingHeld }
  let closing: Promise<void> | undefined
  return { check, close: () => (closing ??= Promise.resolve().then(release)) }
}
