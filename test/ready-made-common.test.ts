// What the ready-made checks share (lib/checks/common.ts): failures in one line without
// secrets, and a componentId that names the server and nothing else; and what the datastore
// checks add to it (lib/checks/outage.ts): the configured password and user cut out too.
import { test } from 'tap'
import { oneLine, serverId } from '../lib/checks/common.js'
import { scrubber } from '../lib/checks/outage.js'

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

// Regression: the password was masked wherever its text occurred, so a one-letter password `e`
// made `Conn***ction t***rminat***d`, which gave it away and destroyed the message.
test('scrubber: the configured password and user are masked where each is a whole token', async (t) => {
  const short = scrubber(['e'], 'bob')
  t.equal(short(new Error('Connection terminated unexpectedly')), 'Error: Connection terminated unexpectedly')
  t.equal(short(new Error('auth with "e" for bob failed: e')), 'Error: auth with "***" for *** failed: ***')
  t.equal(short(new Error('e-mail bobby e2e')), 'Error: ***-mail bobby e2e', 'only where no word character touches it')

  // A token that is the password is masked wherever it is, a port number included.
  const digits = scrubber(['5432'])
  t.equal(digits(new Error('connect ECONNREFUSED 127.0.0.1:54321')), 'Error: connect ECONNREFUSED 127.0.0.1:54321')
  t.equal(digits(new Error('connect ECONNREFUSED 127.0.0.1:5432')), 'Error: connect ECONNREFUSED 127.0.0.1:***')
  t.equal(digits(new Error('server 15432 said 5432x')), 'Error: server 15432 said 5432x')

  const normal = scrubber(['hunter2', undefined, ''], 'orders')
  t.equal(normal(new Error('login orders:hunter2 refused (hunter2)')), 'Error: login ***:*** refused (***)')
  t.equal(normal(new Error('ordersdb: hunter22')), 'Error: ordersdb: hunter22', 'a longer word is not the secret')
  // Characters that mean something in a pattern are the password's own.
  t.equal(scrubber(['p.s$(x)'])(new Error('sent p.s$(x) and pXs$(x)')), 'Error: sent *** and pXs$(x)')
  t.equal(scrubber([], undefined)(new Error('as it is')), 'Error: as it is')
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
