// rabbitmqCheck when the broker blocks publishers for its disk alarm, not only its memory alarm:
// a RabbitMQ node of the test's own is told that it needs more free disk than any machine has
// (rabbitmqctl set_disk_free_limit), a connection that publishes is blocked, readiness fails
// at once saying why, and passes again once the limit is back; the block is logged once and
// no password reaches an answer or a log line.
import amqplib from 'amqplib'
import t from 'tap'
import { rabbitmqCheck } from '../lib/checks/rabbitmq.js'
import fastifyHealth, { type CheckDefinition, type ComponentDetail, type HealthResponse, State } from '../lib/index.js'
import { loggedApp, request, schemaErrors, STACK_FRAME } from './helpers.js'
import { waitFor } from './servers/common.js'
import { startRabbitmq } from './servers/rabbitmq.js'

t.setTimeout(120_000)

const broker = await startRabbitmq()
t.teardown(() => broker.stop())
const id = `127.0.0.1:${broker.port}`
const LOW_ON_DISK = 'The broker blocked the connection: low on disk'
const settings = { timeout: 1000, cacheFor: 100 }

/** A ready-made check with options, whether the factory returns the check or `{ check, close }`. */
const withSettings = (made: unknown): CheckDefinition =>
  (typeof made === 'function' ? { check: made, ...settings } : { ...(made as CheckDefinition), ...settings }) as CheckDefinition

t.test('a disk alarm: the publishing connection fails with the broker\'s reason, then passes once it clears', async (t) => {
  const { app, lines } = loggedApp(t)
  const publishing = await amqplib.connect(broker.url)
  const quiet = await amqplib.connect(broker.url)
  t.teardown(async () => {
    await publishing.close().catch(() => {})
    await quiet.close().catch(() => {})
  })
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: {
      publishing: withSettings(rabbitmqCheck(publishing)),
      quiet: withSettings(rabbitmqCheck(quiet))
    }
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const texts: string[] = []
  const ready = async (): Promise<{ statusCode: number, entries: Record<string, ComponentDetail> }> => {
    const got = await request(`${base}/health/ready`)
    texts.push(got.text)
    t.strictSame(schemaErrors(got.body), [], 'valid by both schemas')
    t.notMatch(got.text, STACK_FRAME, 'no stack frame')
    const checks = (got.body as HealthResponse).checks ?? {}
    return { statusCode: got.statusCode, entries: Object.fromEntries(Object.entries(checks).map(([name, list]) => [name, list[0] as ComponentDetail])) }
  }
  const publisher = await publishing.createChannel()

  const up = await ready()
  t.equal(up.statusCode, 200, 'ready before the alarm')
  t.match(up.entries, { publishing: { status: 'pass', componentId: id }, quiet: { status: 'pass', componentId: id } })

  // More free disk than any machine has: the alarm goes off on the node's next look at the disk.
  await broker.ctl('set_disk_free_limit', '1000000GB')
  try {
    await waitFor('the disk alarm', async () => /disk/.test(await broker.ctl('eval', 'rabbit_alarm:get_alarms().')), 20_000, 250)
    // The broker blocks a connection once it publishes.
    publisher.publish('amq.direct', 'nowhere', Buffer.from('x'))
    // A check's round trip sent as the block began waits for the broker: that reading times out,
    // and the next one knows why.
    const blocked = await waitFor('the check to say the broker blocked the connection', async () => {
      const got = await ready()
      return got.entries.publishing?.output === LOW_ON_DISK ? got : undefined
    }, 10_000, 100)
    t.equal(blocked.statusCode, 503, 'not ready while blocked')
    t.match(blocked.entries, { publishing: { status: 'fail', componentId: id, output: LOW_ON_DISK } }, 'the blocked connection fails, saying it is the disk')
    t.match(blocked.entries, { quiet: { status: 'pass', componentId: id } }, 'a connection that did not publish is not blocked')
    // A check made while the connection is blocked knows it from the start.
    app.health.addCheck('late', rabbitmqCheck(publishing) as never, settings)
    const late = await ready()
    t.match(late.entries, { late: { status: 'fail', componentId: id, output: 'The broker blocked the connection: blocked before the check was created' } },
      'a check made while blocked fails too')
  } finally {
    // Debian's default (50 MB), so that the node passes again whatever the test did.
    await broker.ctl('set_disk_free_limit', '50MB')
  }
  const back = await waitFor('readiness to pass once the alarm clears', async () => {
    const got = await ready()
    return got.statusCode === 200 ? got : undefined
  }, 20_000, 100)
  t.match(back.entries, { publishing: { status: 'pass', componentId: id }, quiet: { status: 'pass' }, late: { status: 'pass' } }, 'unblocked: passing again, no new connection')
  t.equal(lines.filter((line) => line.check === 'publishing' && /low on disk/.test(JSON.stringify(line))).length, 1, 'the block logged once, saying it is the disk')
  for (const text of [...texts, ...lines.map((line) => JSON.stringify(line))]) {
    if (text.includes(broker.password)) t.fail(`the password leaked: ${text}`)
  }
})
