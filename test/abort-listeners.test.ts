import { addAbortListener, getEventListeners, once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { abortListenerCounter, abortListeners, abortTieCounter, abortTies, listenersOf, listenerTableOf, listenerTableReader } from '../lib/engine/abort-listeners.js'

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

// A composite of AbortSignal.any() holds on to its sources without a listener. A signal nothing
// is tied to may serve every run; a tied one serves a bounded number (runner.ts).
test('ties: the composites AbortSignal.any() made from a signal, counted from Node.js\'s own set', async (t) => {
  // Node.js 24 keeps no such set on the source signal: there every signal counts as tied, and
  // is let go every 16 runs, as before any was counted.
  const probe = new AbortController().signal
  const composite = AbortSignal.any([probe])
  if (!Object.getOwnPropertySymbols(probe).some((symbol) => symbol.description === 'kDependantSignals')) {
    t.equal(abortTies(new AbortController().signal), Infinity, `Node.js ${process.version} keeps no set: always tied`)
    t.notOk(composite.aborted)
    return
  }
  t.equal(abortTies(new AbortController().signal), 0, 'a new signal: none')
  const { signal } = new AbortController()
  signal.addEventListener('abort', () => {})
  t.equal(abortTies(signal), 0, 'a listener is no tie (the listener count has it)')
  const composites = [AbortSignal.any([signal]), AbortSignal.any([signal, new AbortController().signal])]
  t.equal(abortTies(signal), 2, 'two composites: two')
  t.equal(composites.length, 2)
})

test('ties: anything else under the name, no such name, or no AbortSignal.any: always tied', async (t) => {
  const { signal } = new AbortController()
  t.equal(abortTieCounter('kAborted')(signal), Infinity, 'a boolean, not a set')
  t.equal(abortTieCounter('no such symbol')(signal), Infinity, 'no such symbol')
  // Node.js 20.0 to 20.2 have no AbortSignal.any.
  const any = Object.getOwnPropertyDescriptor(AbortSignal, 'any') as PropertyDescriptor
  delete (AbortSignal as { any?: unknown }).any
  try {
    t.equal(abortTieCounter()(signal), Infinity, 'without AbortSignal.any')
  } finally {
    Object.defineProperty(AbortSignal, 'any', any)
  }
})

// A runner reads where Node.js keeps a signal's listeners once, when it makes the signal, on the
// lines that make that map with the signal (20 and 22), and counts from it at every run.
test('listenersOf: the same count from the map read when the signal was made as from the signal', async (t) => {
  const controller = new AbortController()
  const { signal } = controller
  const table = listenerTableOf(signal)
  const agree = (what: string): void => {
    const exactCount = getEventListeners(signal, 'abort').length
    t.equal(listenersOf(signal, table) === 0, exactCount === 0, `${what}: with the map read at first`)
    t.equal(listenersOf(signal, undefined) === 0, exactCount === 0, `${what}: from the signal`)
  }
  agree('a new signal')
  const listener = (): void => {}
  signal.addEventListener('abort', listener)
  agree('a listener')
  signal.addEventListener('abort', () => {}, { once: true })
  t.equal(listenersOf(signal, table), 2, 'two count two')
  signal.removeEventListener('abort', listener)
  agree('one removed')
  controller.abort()
  agree('after the abort ran the once listener')
})

/** A controller whose signal keeps its listeners in a map under a symbol, as Node.js 20 does; or one whose map does not count them. */
function fakeController (counts: boolean): AbortController {
  const table = new Map<string, { size: number }>()
  let listener: (() => void) | undefined
  const signal = {
    [Symbol('kEvents')]: table,
    addEventListener: (_type: string, added: () => void) => {
      listener = added
      if (counts) table.set('abort', { size: 1 })
    }
  }
  return { signal, abort: () => listener?.() } as unknown as AbortController
}

test('listenerTableReader: a map that counts what an abort runs, kept for good; else none', async (t) => {
  const counting = fakeController(true)
  const read = listenerTableReader('kEvents', counting)
  const table = read(counting.signal)
  t.ok(table instanceof Map, 'a map that counts: read')
  t.equal(listenersOf(counting.signal, table), 1, 'and counted from: the probe\'s listener is still in it')
  t.equal(listenersOf(counting.signal, new Map()), 0, 'a map without abort listeners counts none')
  t.equal(listenerTableReader('kEvents', fakeController(false))(counting.signal), undefined, 'a map that does not count: none')
  t.equal(listenerTableReader('no such symbol')(new AbortController().signal), undefined, 'no such symbol: none')
  t.equal(listenerTableReader('kAborted')(new AbortController().signal), undefined, 'not a map: none')
})
