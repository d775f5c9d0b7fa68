// What the ready-made checks share (lib/checks/common.ts): failures in one line without
// secrets, and a componentId that names the server and nothing else.
import { test } from 'tap'
import { oneLine, serverId } from '../lib/checks/common.js'

test('oneLine: the message without a stack, on one line', async (t) => {
  t.equal(oneLine(new Error('connect ECONNREFUSED\n  127.0.0.1:5432')), 'Error: connect ECONNREFUSED 127.0.0.1:5432')
  t.equal(oneLine('refused'), 'threw refused')
})

test('oneLine: a connection to several addresses fails with an AggregateError whose first error says why', async (t) => {
  const refused = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], '')
  t.equal(oneLine(refused), 'Error: connect ECONNREFUSED ::1:5432')
  t.equal(oneLine(new AggregateError([new Error('first')], 'all failed')), 'AggregateError: all failed', 'a message of its own is kept')
  t.equal(oneLine(new AggregateError([], '')), 'AggregateError', 'no errors inside: its name')
})

test('oneLine: credentials are cut out, by the one redaction pass (lib/redact.ts, tested in redact.test.ts)', async (t) => {
  t.equal(oneLine(new Error('failed for postgres://orders:s3cret@db:5432/orders')), 'Error: failed for postgres://***@db:5432/orders')
  t.equal(oneLine(new Error('password=s3cret;\n token: abc')), 'Error: password=***; token: ***')
  t.equal(oneLine(new Error('auth failed: PGPASSWORD=x/y@z Authorization: Bearer t0k')), 'Error: auth failed: PGPASSWORD=*** Authorization: ***')
})

test('serverId: host:port with IPv6 in brackets, and the database when there is one', async (t) => {
  t.equal(serverId('db.internal', 5432, 'orders'), 'db.internal:5432/orders')
  t.equal(serverId('::1', 6379), '[::1]:6379')
  t.equal(serverId('[::1]', 6379), '[::1]:6379', 'already in brackets')
  t.equal(serverId(undefined, 5432), 'localhost:5432')
  t.equal(serverId('', '5432', ''), 'localhost:5432')
  t.equal(serverId('db', undefined), 'db')
  t.equal(serverId('db', ''), 'db')
})
