import { addAbortListener, getEventListeners, once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { abortListenerCounter, abortListeners } from '../lib/engine/abort-listeners.js'

// Whether a run's signal may serve the next run hangs on this count (lib/engine/abort-listeners.ts):
// it must never say none while a listener would still run on abort. Checked on every Node.js line
// CI runs, against events.getEventListeners(), in each way a check or a library listens.

const exact = abortListenerCounter('no such symbol')

test('the counter in use reads Node.js\'s own map, which every line of the README\'s table keeps', async (t) => {
  t.not(abortListeners, exact, 'not the fallback')
})

test('it says none exactly when getEventListeners() does, however a listener came', async (t) => {
  const controller = new AbortController()
  const { signal } = controller
  const agree = (what: string): void => {
    t.equal(abortListeners(signal) === 0, getEventListeners(signal, 'abort').length === 0, `${what}: ${abortListeners(signal)} listener(s)`)
  }
  agree('a new signal')
  const listener = (): void => {}
  signal.addEventListener('abort', listener)
  agree('addEventListener')
  signal.addEventListener('abort', () => {}, { once: true })
  t.equal(abortListeners(signal), 2, 'two listeners count two')
  signal.removeEventListener('abort', listener)
  agree('one removed')
  const disposable = addAbortListener(signal, () => {})
  agree('events.addAbortListener')
  disposable[Symbol.dispose]()
  const promise = once(signal, 'abort')
  agree('events.once')
  sleep(60_000, undefined, { signal }).catch(() => {})
  agree('a timer of node:timers/promises')
  AbortSignal.any([signal])
  agree('AbortSignal.any')
  controller.abort()
  await promise
  t.ok(signal.aborted)
})

test('all listeners removed: none, so the signal may be passed on', async (t) => {
  const { signal } = new AbortController()
  const listeners = [(): void => {}, (): void => {}]
  for (const listener of listeners) signal.addEventListener('abort', listener)
  t.equal(abortListeners(signal), 2)
  for (const listener of listeners) signal.removeEventListener('abort', listener)
  t.equal(abortListeners(signal), 0)
  t.equal(getEventListeners(signal, 'abort').length, 0)
})

test('onabort: counted while set; once unset it calls nothing on abort', async (t) => {
  const controller = new AbortController()
  const { signal } = controller
  let called = 0
  signal.onabort = () => { called++ }
  t.equal(abortListeners(signal), 1, 'a handler set counts')
  signal.onabort = null
  // getEventListeners() still lists the attribute's empty slot; it runs nothing.
  t.equal(abortListeners(signal), 0, 'none once unset')
  controller.abort()
  t.equal(called, 0, 'and aborting calls nothing')
})

test('anything else under the name, or no such name: the exact count', async (t) => {
  t.equal(abortListenerCounter('kAborted'), exact, 'a boolean, not a map')
  t.equal(abortListenerCounter('kHandlers'), exact, 'a map that does not count listeners added with addEventListener (or no such symbol)')
  const { signal } = new AbortController()
  signal.addEventListener('abort', () => {})
  t.equal(exact(signal), 1, 'which counts as getEventListeners() does')
})
