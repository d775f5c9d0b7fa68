// RabbitMQ: a round trip on a channel of the check's own, over the application's amqplib
// connection. AMQP 0-9-1 has no ping: a heartbeat gets no answer, and a channel's open and close
// cost two round trips and a process on the broker each time. So the check keeps one channel and
// sends basic.qos on it: one frame each way, through the broker's channel process, with no
// entity looked up and no permission needed, so it can only fail because the broker does.
import { performance } from 'node:perf_hooks'
import type { ComponentDetail } from '../engine/types.js'
import { checkOptions, failedReading, invalidTarget, oneLine, type ResponseTimeOptions, serverId, timedReading } from './common.js'
import { listen, type Listenable, OutageLog, untilAborted } from './outage.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** basic.qos with no limit: what the check's own channel (which consumes nothing) has already. */
  prefetch: 0,
  /** The output once close() released the check's channel. */
  closed: 'The check was closed'
} as const

type Callback = (error: unknown, value?: unknown) => void

interface Emitter {
  on (event: string, listener: (...args: never[]) => void): unknown
  removeListener (event: string, listener: (value: unknown) => void): unknown
}

interface Socket { remoteAddress?: string, remotePort?: number }

/** What rabbitmqCheck uses of an amqplib channel, promise or callback API. */
interface Channel extends Emitter {
  prefetch (count: number, global?: boolean, callback?: Callback): unknown
  close (callback?: Callback): unknown
  connection?: { stream?: Socket }
}

/**
 * What `amqplib.connect()` resolves to: a ChannelModel (`.connection` is the connection under
 * it), the callback API's model, or a recovering one (the `recovery` option, `waitForConnect`).
 */
export interface AmqpConnection extends Emitter {
  createChannel (...args: never[]): unknown
  connection?: object
  waitForConnect?: (...args: never[]) => unknown
}

export interface RabbitmqCheckOptions extends ResponseTimeOptions {}

const FACTORY = 'rabbitmqCheck'
const EXPECTED = 'the amqplib connection that amqplib.connect() resolves to (a ChannelModel; not its .connection)'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The amqplib connection rabbitmqCheck takes: a ChannelModel, a callback or a recovering model. */
export function isRabbitmqTarget (value: unknown): value is AmqpConnection {
  return isObject(value) && typeof value.createChannel === 'function' && typeof value.on === 'function' && typeof value.removeListener === 'function' &&
    (isObject(value.connection) || typeof value.waitForConnect === 'function')
}

/** Calls a method of the promise or of the callback API: it returns a promise or calls back. */
function call<T> (invoke: (callback: Callback) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const returned = invoke((error, value) => { if (error === null || error === undefined) resolve(value as T); else reject(error) })
    if (typeof (returned as PromiseLike<T> | undefined)?.then === 'function') (returned as PromiseLike<T>).then(resolve, reject)
  })
}

/** `host:port` of the broker the socket is connected to, or undefined once it is closed. */
function brokerId (stream: Socket | undefined): string | undefined {
  return stream?.remoteAddress === undefined ? undefined : serverId(stream.remoteAddress, stream.remotePort)
}

interface Flight {
  start: number
  /** Settles once the broker answered (undefined) or the round trip failed (its error). */
  done: Promise<{ error: unknown } | undefined>
}

/**
 * A check that times one round trip to the broker over `connection` (`componentType:
 * 'component'`, observedValue in ms). A connection that is closed, blocked by the broker, or
 * (recovering) between two connections fails at once. A blocked connection fails rather than
 * warns: the broker has run out of memory or disk and stops reading from every connection that
 * publishes, so the service cannot send a message until it is unblocked; the check says so at
 * once, where a round trip would only hang until the timeout. close() closes the check's channel
 * and takes its listeners off the connection (shared by all checks of a connection, they go
 * with the last); a run after it fails.
 */
export function rabbitmqCheck (connection: AmqpConnection, options?: RabbitmqCheckOptions): ReadyMadeCheck {
  if (!isRabbitmqTarget(connection)) invalidTarget(FACTORY, EXPECTED, connection)
  const settings = checkOptions<RabbitmqCheckOptions>(FACTORY, options)
  const recovering = typeof connection.waitForConnect === 'function'
  const under = connection.connection as { stream?: Socket, blocked?: boolean } | undefined
  let componentId = settings.componentId ?? brokerId(under?.stream)
  const outages = new OutageLog('RabbitMQ', () => componentId)
  /** Why no round trip can go now (closed, or between two connections), or undefined. */
  let down: string | undefined
  /** The broker's reason for blocking the connection, while it does. */
  let blocked = under?.blocked === true ? 'blocked before the check was created' : undefined
  let channel: Channel | undefined
  let opening: Promise<Channel> | undefined
  let flight: Flight | undefined
  let closed = false

  const releases: Array<() => void> = []
  const on = (event: string, listener: (value: unknown) => void): void => { releases.push(listen(connection as Listenable, event, listener)) }
  // Added, never replacing the application's own: without an 'error' listener amqplib throws
  // the error out of its socket handler, and the process crashes.
  on('error', outages.failed)
  on('blocked', (reason) => {
    blocked = String(reason)
    outages.failed(new Error(`The broker blocked the connection: ${blocked}`))
  })
  on('unblocked', () => { blocked = undefined })
  if (recovering) {
    on('connect', (model) => {
      down = undefined
      componentId ??= brokerId((model as { connection?: { stream?: Socket } }).connection?.stream)
    })
    on('connect-failed', (error) => {
      down = `Connecting to the broker failed, retrying (${oneLine(error)})`
      outages.failed(error)
    })
    on('disconnect', (error) => {
      down = `Disconnected from the broker, reconnecting (${oneLine(error)})`
      blocked = undefined
      outages.failed(error)
    })
    on('reconnect-failed', (error) => {
      down = `Reconnecting to the broker failed for good (${oneLine(error)})`
      outages.failed(error)
    })
  } else {
    on('close', (error) => {
      // The application closing its connection is no outage; the broker or the network closing it is.
      down = error === undefined ? 'The connection was closed' : `The connection was closed (${oneLine(error)})`
      if (error !== undefined) outages.failed(error)
    })
  }

  const open = (): Promise<Channel> => {
    opening ??= call<Channel>((callback) => connection.createChannel(undefined as never, callback as never)).then((opened) => {
      // Closed while it opened: not kept.
      if (closed) {
        shut(opened)
        throw new Error(defaults.closed)
      }
      componentId ??= brokerId(opened.connection?.stream)
      opened.on('error', outages.failed)
      opened.on('close', () => { if (channel === opened) channel = undefined })
      channel = opened
      return opened
    }).finally(() => { opening = undefined })
    return opening
  }

  const send = (on: Channel): Flight => {
    const done = call((callback) => on.prefetch(defaults.prefetch, false, callback)).then(() => undefined, (error: unknown) => ({ error }))
    const sent: Flight = { start: performance.now(), done }
    done.then(() => { if (flight === sent) flight = undefined })
    return sent
  }

  // componentId may only be learnt from the first channel (a recovering model hides its connection).
  const reading = (detail: ComponentDetail): ComponentDetail =>
    componentId === undefined ? { componentType: 'component', ...detail } : { componentType: 'component', componentId, ...detail }

  const release = async (): Promise<void> => {
    closed = true
    for (const each of releases) each()
    const held = channel
    channel = undefined
    if (held !== undefined) await shut(held)
  }

  return readyMade(async (signal, context) => {
    if (closed) return reading({ status: 'fail', output: defaults.closed })
    outages.run(context.log)
    if (down !== undefined) return reading({ status: 'fail', output: down })
    if (blocked !== undefined) return reading({ status: 'fail', output: `The broker blocked the connection: ${blocked}` })
    if (flight === undefined) {
      let on: Channel
      try {
        on = channel ?? await untilAborted(open(), signal)
      } catch (error) {
        if (signal.aborted) throw error
        return failedReading(reading({}), error)
      }
      flight ??= send(on)
    }
    const { start, done } = flight
    const failed = await untilAborted(done, signal)
    // A connection that closes rejects the round trip first, then says why it closed.
    if (failed !== undefined) return down === undefined ? failedReading(reading({}), failed.error) : reading({ status: 'fail', output: down })
    outages.passed()
    return timedReading(reading({}), start, settings)
  }, release)
}

/** Closes a channel of the check's; one the broker or the connection closed already is left as it is. */
async function shut (channel: Channel): Promise<void> {
  try {
    await call((callback) => channel.close(callback))
  } catch {
    // Closed already (amqplib throws IllegalOperationError), or the connection went with it.
  }
}
