// The independent validator of the draft (test/draft-validator.ts) that every answer goes through
// rejects what the draft does not allow, and says where: a validator that accepts anything would
// let every test that uses it pass.
import { test } from 'tap'
import { draftErrors } from './draft-validator.js'
import { schemaErrors } from './helpers.js'

const valid = {
  status: 'warn',
  serviceId: 'orders',
  links: { about: 'https://example.com/orders', docs: '/docs' },
  checks: {
    'db:responseTime': [{ status: 'warn', componentType: 'datastore', observedValue: 250, observedUnit: 'ms', time: '2024-05-01T10:20:30.000Z', links: { self: 'https://db.example/status' } }],
    uptime: [{ status: 'pass' }]
  }
}

/** `valid` with one change made by `change` (on a deep copy). */
function broken (change: (document: typeof valid & Record<string, unknown>) => void): unknown {
  const document = structuredClone(valid) as typeof valid & Record<string, unknown>
  change(document)
  return document
}

test('a valid document passes both validators', async (t) => {
  t.same(draftErrors(valid), [], 'the draft\'s validator accepts it')
  t.same(schemaErrors(valid), [], 'and so does the exported schema')
})

test('the draft\'s validator rejects known-bad documents, naming where', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a status word the draft does not allow (top level)', broken((d) => { d.status = 'ok' }), /^\/status must be equal to one of the allowed values$/],
    ['a status word the draft does not allow (a check)', broken((d) => { d.checks['db:responseTime'][0].status = 'up' }), /^\/checks\/db:responseTime\/0\/status must be equal to one of the allowed values$/],
    ['no status', broken((d) => { delete (d as Record<string, unknown>).status }), /must have required property 'status'/],
    ['a time that is no date-time', broken((d) => { d.checks['db:responseTime'][0].time = 'yesterday' }), /^\/checks\/db:responseTime\/0\/time must match format "date-time"$/],
    ['a time on a day no calendar has', broken((d) => { d.checks['db:responseTime'][0].time = '2024-02-30T10:00:00Z' }), /\/time must match format "date-time"/],
    ['a relative link (top level)', broken((d) => { d.links.docs = 'docs/status' }), /^\/links\/docs must match/],
    ['a relative link up a level (a check)', broken((d) => { d.checks['db:responseTime'][0].links.self = '../status' }), /^\/checks\/db:responseTime\/0\/links\/self must match/],
    ['a link that is no URI at all', broken((d) => { d.links.about = 'not a uri' }), /^\/links\/about must match/],
    ['a key with two colons', broken((d) => { (d.checks as Record<string, unknown>)['db:response:time'] = [{ status: 'pass' }] }), /^\/checks must match pattern/],
    ['checks entries that are no array', broken((d) => { (d.checks as Record<string, unknown>).uptime = { status: 'pass' } }), /^\/checks\/uptime must be array$/]
  ]
  for (const [what, document, expected] of cases) {
    const errors = draftErrors(document)
    t.not(errors.length, 0, `${what}: rejected`)
    t.ok(errors.some((error) => expected.test(error)), `${what}: ${JSON.stringify(errors)}`)
  }
})
