import { test, type Test } from 'tap'
import type { HealthResponse } from '../lib/index.js'
import { dnsCheck } from '../lib/checks/dns.js'
import { draftErrors } from './draft-validator.js'
import { request, workingApp } from './helpers.js'
import { activeTimers, expectTimeoutThroughPlugin, newSockets, openSockets, runCheck, waitFor } from './servers/common.js'
import { type DnsServer, startDnsServer } from './servers/dns.js'

// dnsCheck against a real UDP DNS server of the test's own (test/servers/dns.ts), and localhost
// through the system resolver.

const zone = {
  'svc.test': {
    A: ['10.0.0.1', '10.0.0.2'],
    AAAA: ['fd00::1'],
    TXT: [['v=spf1 ', '-all']],
    MX: [{ exchange: 'mail.svc.test', priority: 10 }],
    SRV: [{ name: 'api.svc.test', port: 8443, priority: 1, weight: 5 }],
    CNAME: ['real.svc.test']
  },
  'empty.test': {}
}

async function dnsServer (t: Test): Promise<DnsServer> {
  const server = await startDnsServer(zone)
  t.teardown(() => server.close())
  return server
}

test('the factory checks its target and options at once', async (t) => {
  for (const target of [42, '', 'svc test', undefined]) {
    t.throws(() => dnsCheck(target as string), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, `target ${String(target)}`)
  }
  const bad: unknown[] = [
    'not an object',
    { retries: 1 },
    { rrtype: 'SOA', servers: ['127.0.0.1'] },
    { rrtype: 'MX' },
    { servers: [] },
    { servers: ['not-an-ip'] },
    { servers: [53] },
    { expect: [] },
    { expect: ['10.0.0.1', 1] },
    { warn: 10, fail: 5 },
    { componentId: '' }
  ]
  for (const options of bad) {
    t.throws(() => dnsCheck('svc.test', options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
  t.type(dnsCheck('svc.test', { servers: ['127.0.0.1:5353', '[::1]:53'], rrtype: 'TXT' }).check, 'function')
})

test('A records from the given server: pass, timed, and expected records', async (t) => {
  const server = await dnsServer(t)
  const reading = await runCheck(dnsCheck('svc.test', { servers: [server.address] }).check)
  t.match(reading, { componentType: 'component', componentId: 'svc.test', observedUnit: 'ms', status: 'pass' })
  t.type(reading.observedValue, 'number')
  t.equal(reading.output, undefined, 'no output on pass')
  t.same(server.queries, ['svc.test/A'], 'one A question, default rrtype A')
  const before = openSockets()
  await runCheck(dnsCheck('svc.test', { servers: [server.address] }).check)
  await waitFor('the resolver socket to close', () => newSockets(before).length === 0, 5000, 10)

  t.match(await runCheck(dnsCheck('SVC.test', { servers: [server.address], expect: ['10.0.0.2', '10.0.0.1'] }).check), { status: 'pass' })
  const missing = await runCheck(dnsCheck('svc.test', { servers: [server.address], expect: ['10.0.0.1', '10.0.0.9'] }).check)
  t.match(missing, { status: 'fail', componentId: 'svc.test', output: '10.0.0.9 not among the answers (10.0.0.1, 10.0.0.2)' })
  t.match(await runCheck(dnsCheck('svc.test', { servers: [server.address], componentId: 'resolver' }).check), { componentId: 'resolver' })
  t.match(await runCheck(dnsCheck('svc.test', { servers: [server.address], warn: 0 }).check), {
    status: 'warn', output: /^time to resolve [\d.]+ ms is at or above the warn threshold of 0 ms$/
  })
})

test('every record type, compared as text', async (t) => {
  const server = await dnsServer(t)
  const cases: Array<[string, string]> = [
    ['AAAA', 'fd00::1'], ['TXT', 'v=spf1 -all'], ['MX', 'MAIL.svc.test'], ['SRV', 'api.svc.test:8443'], ['CNAME', 'real.svc.test']
  ]
  for (const [rrtype, record] of cases) {
    const check = dnsCheck('svc.test', { servers: [server.address], rrtype: rrtype as 'A', expect: [record] })
    t.match(await runCheck(check.check), { status: 'pass' }, rrtype)
  }
  t.match(await runCheck(dnsCheck('svc.test', { servers: [server.address], rrtype: 'MX', expect: ['other.test'] }).check), {
    status: 'fail', output: 'other.test not among the answers (mail.svc.test)'
  })
})

test('an unknown name or no record: fail in one line', async (t) => {
  const server = await dnsServer(t)
  const unknown = await runCheck(dnsCheck('nowhere.test', { servers: [server.address] }).check)
  t.match(unknown, { status: 'fail', componentId: 'nowhere.test', output: /ENOTFOUND nowhere\.test/ })
  t.notMatch(unknown.output, /\n|\bat /, 'one line, no stack')
  t.match(await runCheck(dnsCheck('empty.test', { servers: [server.address] }).check), { status: 'fail', output: /ENODATA/ })
})

test('localhost through the system resolver', async (t) => {
  t.match(await runCheck(dnsCheck('localhost').check), { status: 'pass', componentId: 'localhost', observedUnit: 'ms' })
  t.match(await runCheck(dnsCheck('localhost', { rrtype: 'A', expect: ['127.0.0.1'] }).check), { status: 'pass' })
  // Aborted as soon as it starts: the run stops waiting for getaddrinfo, which cannot be cancelled.
  const abort = new AbortController()
  const pending = runCheck(dnsCheck('localhost').check, abort.signal)
  abort.abort(new Error('stop'))
  await t.rejects(pending, { message: 'stop' })
  const aborted = new AbortController()
  aborted.abort(new Error('already'))
  await t.rejects(runCheck(dnsCheck('localhost').check, aborted.signal), { message: 'already' })
})

test('a server that never answers: abort cancels the query and leaves no socket', async (t) => {
  const server = await dnsServer(t)
  server.mode = 'hang'
  const before = openSockets()
  const abort = new AbortController()
  const pending = runCheck(dnsCheck('svc.test', { servers: [server.address] }).check, abort.signal)
  await waitFor('the question', () => server.queries.length > 0, 5000, 10)
  t.ok(newSockets(before).length > 0, 'the resolver holds a socket meanwhile')
  abort.abort(new Error('stop'))
  await t.rejects(pending, { message: 'stop' })
  await waitFor('the socket to close', () => newSockets(before).length === 0, 5000, 10)
  t.strictSame(newSockets(before), [], 'no socket left')
})

test('through the plugin: a hang stays within the timeout, then nothing is left behind', async (t) => {
  const server = await dnsServer(t)
  server.mode = 'hang'
  const sockets = openSockets()
  const timersBefore = activeTimers()
  const app = await workingApp(t)
  await expectTimeoutThroughPlugin(t, app, 'dns:responseTime', dnsCheck('svc.test', { servers: [server.address] }).check)
  await app.close()
  await waitFor('the socket to close', () => newSockets(sockets).length === 0, 5000, 10)
  t.equal(activeTimers(), timersBefore, 'no timer left')
})

test('through the plugin: single flight, over inject and real HTTP', async (t) => {
  const server = await dnsServer(t)
  const app = await workingApp(t)
  app.health.addCheck('dns', dnsCheck('svc.test', { servers: [server.address], expect: ['10.0.0.1'] }), { cacheFor: 60_000 })
  const answers = await Promise.all(Array.from({ length: 20 }, () => app.inject('/health')))
  t.same(server.queries, ['svc.test/A'], 'twenty concurrent requests, one question')
  for (const res of answers) {
    t.equal(res.statusCode, 200)
    t.same(draftErrors(res.json()), [])
  }
  t.match((answers[0].json() as HealthResponse).checks?.dns, [{ componentId: 'svc.test', status: 'pass', observedUnit: 'ms' }])

  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const got = await request(`${base}/health`)
  t.equal(got.statusCode, 200)
  t.same(draftErrors(got.body), [])
  t.match(got.body, { status: 'pass', checks: { dns: [{ componentId: 'svc.test', status: 'pass' }] } })

  // A failing name over real HTTP: 503 with the check's own one-line output.
  const failing = await workingApp(t)
  failing.health.addCheck('dns', dnsCheck('nowhere.test', { servers: [server.address] }))
  const failingBase = await failing.listen({ host: '127.0.0.1', port: 0 })
  const failed = await request(`${failingBase}/health`)
  t.equal(failed.statusCode, 503)
  t.same(draftErrors(failed.body), [])
  t.match(failed.body, { status: 'fail', checks: { dns: [{ componentId: 'nowhere.test', status: 'fail', output: /ENOTFOUND/ }] } })
})
