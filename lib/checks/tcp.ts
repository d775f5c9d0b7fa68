// tcpCheck: a TCP connection opened and closed at once, timed to the handshake.
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { ComponentDetail } from '../engine/types.js'
import { checkOptions, failedReading, invalidTarget, type ResponseTimeOptions, serverId, timedReading } from './common.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const FACTORY = 'tcpCheck'

const defaults = {
  maxPort: 65535,
  /** What the reading's observedValue is, as its warn/fail output names it. */
  measure: 'time to connect'
} as const

/** A check that `host` accepts a TCP connection on `port`; it holds nothing between runs. */
export function tcpCheck (host: string, port: number, options?: ResponseTimeOptions): ReadyMadeCheck {
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) invalidTarget(FACTORY, 'a host name or address', host)
  if (!Number.isInteger(port) || port < 1 || port > defaults.maxPort) invalidTarget(FACTORY, `a port from 1 to ${defaults.maxPort}`, port)
  const settings = checkOptions<ResponseTimeOptions>(FACTORY, options)
  const base: ComponentDetail = { componentType: 'component', componentId: settings.componentId ?? serverId(host, port) }

  return readyMade((signal) => new Promise((resolve, reject) => {
    signal.throwIfAborted()
    const start = performance.now()
    const socket = connect({ host, port })
    // Whatever ends the run, the socket goes with it.
    const settle = (done: () => void): void => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      done()
    }
    const onAbort = (): void => settle(() => reject(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => {
      const reading = timedReading(base, start, settings, defaults.measure)
      settle(() => resolve(reading))
    })
    socket.once('error', (error) => settle(() => resolve(failedReading(base, error))))
  }))
}
