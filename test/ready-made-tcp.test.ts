import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { test, type Test } from 'tap'
import type { HealthResponse } from '../lib/index.js'
import { tcpCheck } from '../lib/checks/tcp.js'
import { draftErrors } from './draft-validator.js'
import { request, workingApp } from './helpers.js'
import { activeTimers, expectTimeoutThroughPlugin, freePort, newSockets, openSockets, runCheck, waitFor } from './servers/common.js'

// tcpCheck against real listeners on 127.0.0.1: one that accepts, a closed port, and one whose
// accept queue is full so that a connection hangs in the handshake.

/** A listener that counts the connections it accepted and those still open. */
async function listener (t: Test): Promise<{ server: Server, port: number, accepted: () => number, open: () => number }> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  return { server, port: (server.address() as { port: number }).port, accepted: () => accepted, open: () => sockets.size }
}

/**
 * A port where a connection hangs in the handshake: a child listens with a backlog of 1 and
 * blocks (without spinning) so it never accepts; once its queue is full the kernel drops SYNs.
 */
async function hangingPort (t: Test): Promise<number> {
  const source = `
    const server = require('node:net').createServer()
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    })`
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const [line] = await once(child.stdout, 'data') as [Buffer]
  const port = Number(line.toString().trim())
  const fillers: Socket[] = []
  t.teardown(() => { for (const socket of fillers) socket.destroy() })
  // Bounded: the queue holds backlog + 1 connections, a few more leave room for the kernel's rounding.
  for (let i = 0; i < 16; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    fillers.push(socket)
    const connected = await Promise.race([once(socket, 'connect').then(() => true), new Promise((resolve) => setTimeout(resolve, 300, false))])
    if (!connected) return port
  }
  throw new Error('the accept queue never filled up')
}

test('the factory checks its target and options at once', async (t) => {
  for (const host of [42, '', 'db host', undefined]) {
    t.throws(() => tcpCheck(host as string, 5432), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, `host ${String(host)}`)
  }
  for (const port of [0, 65536, 1.5, '5432', undefined]) {
    t.throws(() => tcpCheck('db', port as number), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, `port ${String(port)}`)
  }
  for (const options of ['fast', { retries: 2 }, { warn: -1 }, { componentId: 5 }]) {
    t.throws(() => tcpCheck('db', 5432, options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
})

test('a listening port: pass, timed to the handshake, and the connection closed at once', async (t) => {
  const { port, accepted, open } = await listener(t)
  const reading = await runCheck(tcpCheck('127.0.0.1', port).check)
  t.match(reading, { componentType: 'component', componentId: `127.0.0.1:${port}`, observedUnit: 'ms', status: 'pass' })
  t.type(reading.observedValue, 'number')
  t.equal(reading.output, undefined)
  await waitFor('the connection to close', () => accepted() === 1 && open() === 0, 5000, 10)
  t.strictSame({ accepted: accepted(), open: open() }, { accepted: 1, open: 0 }, 'the server saw one connection, closed')
  const before = openSockets()
  await runCheck(tcpCheck('127.0.0.1', port).check)
  await waitFor('the client socket to close', () => newSockets(before).length === 0, 5000, 10)
  t.match(await runCheck(tcpCheck('127.0.0.1', port, { warn: 0, componentId: 'db' }).check), {
    componentId: 'db', status: 'warn', output: /^time to connect [\d.]+ ms is at or above the warn threshold of 0 ms$/
  })
  t.match(await runCheck(tcpCheck('127.0.0.1', port, { fail: 0 }).check), { status: 'fail' })
})

test('a closed port: fail, ECONNREFUSED in one line', async (t) => {
  const port = await freePort()
  const reading = await runCheck(tcpCheck('127.0.0.1', port).check)
  t.match(reading, { componentId: `127.0.0.1:${port}`, status: 'fail', output: /ECONNREFUSED/ })
  t.notMatch(reading.output, /\n|\bat /, 'one line, no stack')
  // localhost may try two addresses: still one line, and still the refusal.
  t.match(await runCheck(tcpCheck('localhost', port).check), { componentId: `localhost:${port}`, status: 'fail', output: /ECONNREFUSED/ })
  t.match(await runCheck(tcpCheck('::1', port).check), { componentId: `[::1]:${port}`, status: 'fail' })
})

test('aborts: before the start, and in the middle of a hanging handshake', async (t) => {
  const aborted = new AbortController()
  aborted.abort(new Error('already'))
  await t.rejects(runCheck(tcpCheck('127.0.0.1', 9).check, aborted.signal), { message: 'already' })

  const port = await hangingPort(t)
  const before = openSockets()
  const abort = new AbortController()
  const pending = runCheck(tcpCheck('127.0.0.1', port).check, abort.signal)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(newSockets(before).length, 1, 'the handshake is pending')
  abort.abort(new Error('stop'))
  await t.rejects(pending, { message: 'stop' })
  await waitFor('the socket to close', () => newSockets(before).length === 0, 5000, 10)
  t.strictSame(newSockets(before), [], 'the socket is gone')
})

test('through the plugin: a hang stays within the timeout, then nothing is left behind', async (t) => {
  const port = await hangingPort(t)
  const sockets = openSockets()
  const timersBefore = activeTimers()
  const app = await workingApp(t)
  await expectTimeoutThroughPlugin(t, app, 'db:responseTime', tcpCheck('127.0.0.1', port).check)
  await waitFor('the aborted socket to close', () => newSockets(sockets).length === 0, 5000, 10)
  await app.close()
  t.equal(activeTimers(), timersBefore, 'no timer left')
})

test('through the plugin: single flight, over inject and real HTTP', async (t) => {
  const { port, accepted } = await listener(t)
  const app = await workingApp(t)
  app.health.addCheck('db', tcpCheck('127.0.0.1', port), { cacheFor: 60_000 })
  const answers = await Promise.all(Array.from({ length: 20 }, () => app.inject('/health')))
  for (const res of answers) {
    t.equal(res.statusCode, 200)
    t.same(draftErrors(res.json()), [])
  }
  await waitFor('the connection', () => accepted() > 0, 5000, 10)
  t.equal(accepted(), 1, 'twenty concurrent requests, one connection')
  t.match((answers[0].json() as HealthResponse).checks?.db, [{ componentId: `127.0.0.1:${port}`, status: 'pass', observedUnit: 'ms' }])

  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const got = await request(`${base}/health`)
  t.equal(got.statusCode, 200)
  t.same(draftErrors(got.body), [])
  t.match(got.body, { status: 'pass', checks: { db: [{ status: 'pass' }] } })

  const closed = await freePort()
  const failing = await workingApp(t)
  failing.health.addCheck('db', tcpCheck('127.0.0.1', closed))
  const failed = await request(`${await failing.listen({ host: '127.0.0.1', port: 0 })}/health`)
  t.equal(failed.statusCode, 503)
  t.same(draftErrors(failed.body), [])
  t.match(failed.body, { status: 'fail', checks: { db: [{ componentId: `127.0.0.1:${closed}`, status: 'fail', output: /ECONNREFUSED/ }] } })
})
