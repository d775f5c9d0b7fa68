// tcpCheck: a TCP connection opened and closed at once, timed to the handshake.
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { CheckFunction, ComponentDetail } from '../engine/types.js'
import { checkOptions, failedReading, invalidTarget, type ResponseTimeOptions, serverId, timedReading } from './common.js'

/** A check that `host` accepts a TCP connection on `port`. */
export function tcpCheck (host: string, port: number, options?: ResponseTimeOptions): CheckFunction {
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) invalidTarget('tcpCheck', 'a host name or address', host)
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalidTarget('tcpCheck', 'a port from 1 to 65535', port)
  const settings = checkOptions<ResponseTimeOptions>('tcpCheck', options)
  const base: ComponentDetail = { componentType: 'component', componentId: settings.componentId ?? serverId(host, port) }

  return (signal) => new Promise((resolve, reject) => {
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
      const reading = timedReading(base, start, settings, 'time to connect')
      settle(() => resolve(reading))
    })
    socket.once('error', (error) => settle(() => resolve(failedReading(base, error))))
  })
}
