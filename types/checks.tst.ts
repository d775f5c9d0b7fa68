import Fastify from 'fastify'
import { describe, expect, test } from 'tstyche'
import fastifyHealth, {
  type CheckDefinition, type CheckFunction, type CheckOptions, type ComponentDetail, type HealthReport, type ProcessChecksOptions, type Status
} from '../lib/index.js'
import {
  diskCheck, dnsCheck, mysqlCheck, type MysqlCheckOptions, postgresCheck, type PostgresCheckOptions, rabbitmqCheck, type ReadyMadeCheck,
  redisCheck, type RedisCheckOptions, type RedisTarget, tcpCheck, tlsCertificateCheck, underPressureCheck
} from '../lib/checks/index.js'

const app = Fastify()

describe('addCheck', () => {
  test('a check gets an AbortSignal and may return a detail, an array, or nothing, sync or async', () => {
    expect(app.health.addCheck('db:responseTime', async (signal) => {
      expect(signal).type.toBe<AbortSignal>()
      return { componentType: 'datastore', observedValue: 3, observedUnit: 'ms', status: 'pass' }
    })).type.not.toRaiseError()
    expect(app.health.addCheck('cache', () => [{ componentId: 'a' }, { componentId: 'b', status: 'warn' }])).type.not.toRaiseError()
    expect(app.health.addCheck('queue', () => {})).type.not.toRaiseError()
    expect(app.health.addCheck('queue', async () => undefined)).type.not.toRaiseError()
  })

  test('user keys are allowed beside the draft fields, which are typed', () => {
    expect(app.health.addCheck('x', () => ({ region: 'eu', time: new Date() }))).type.not.toRaiseError()
    expect(app.health.addCheck('x', () => ({ affectedEndpoints: 'not an array' }))).type.toRaiseError("Type 'string' is not assignable to type 'string[]'")
    expect(app.health.addCheck('x', () => ({ links: { about: 1 } }))).type.toRaiseError("Type 'number' is not assignable to type 'string'")
  })

  test('a check that returns something else is rejected', () => {
    expect(app.health.addCheck('x', () => 42)).type.toRaiseError("Type 'number' is not assignable to type 'CheckResult | Promise<CheckResult>'")
    expect(app.health.addCheck('x', async () => 'ok')).type.toRaiseError("Type 'Promise<string>' is not assignable to type 'CheckResult | Promise<CheckResult>'")
    expect(app.health.addCheck(42, () => {})).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'string'")
  })

  test('options are typed', () => {
    expect(app.health.addCheck('x', () => {}, { timeout: 500, critical: false, cacheFor: 0, interval: 1000, probes: ['live', 'ready'] }))
      .type.not.toRaiseError()
    expect(app.health.addCheck('x', () => {}, { probes: ['started'] })).type.toRaiseError("Type '\"started\"' is not assignable to type 'ProbeName'")
    expect(app.health.addCheck('x', () => {}, { timeout: '1s' })).type.toRaiseError("Type 'string' is not assignable to type 'number'")
    expect(app.health.addCheck('x', () => {}, { retries: 2 })).type.toRaiseError("'retries' does not exist in type 'CheckOptions'")
  })

  test('the thresholds are numbers', () => {
    expect(app.health.addCheck('x', () => {}, { failureThreshold: 3, successThreshold: 2, slowThreshold: 500 })).type.not.toRaiseError()
    expect(app.health.addCheck('x', () => {}, { failureThreshold: '3' })).type.toRaiseError("Type 'string' is not assignable to type 'number'")
    expect(app.health.addCheck('x', () => {}, { successThreshold: true })).type.toRaiseError("Type 'boolean' is not assignable to type 'number'")
    expect(app.health.addCheck('x', () => {}, { slowThreshold: '1s' })).type.toRaiseError("Type 'string' is not assignable to type 'number'")
    expect(app.health.addCheck('x', () => {}, { failThreshold: 3 })).type.toRaiseError("'failThreshold' does not exist in type 'CheckOptions'")
    expect<CheckOptions['failureThreshold']>().type.toBe<number | undefined>()
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      checks: { db: { check: () => {}, failureThreshold: 3, successThreshold: 1, slowThreshold: 200 } }
    })).type.not.toRaiseError()
  })

  test('the exported types describe the same thing', () => {
    expect<CheckFunction>().type.toBeAssignableFrom(async (_signal: AbortSignal) => ({ status: 'pass' } satisfies ComponentDetail))
    expect<CheckOptions>().type.toBeAssignableFrom({ timeout: 1 })
  })
})

describe('removeCheck', () => {
  test('takes a name and says whether a check was removed', () => {
    expect(app.health.removeCheck('db')).type.toBe<boolean>()
    expect(app.health.removeCheck).type.toBe<(name: string) => boolean>()
  })

  test('anything but one name is rejected', () => {
    expect(app.health.removeCheck(42)).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'string'")
    expect(app.health.removeCheck()).type.toRaiseError('Expected 1 arguments, but got 0')
    expect(app.health.removeCheck(['db'])).type.toRaiseError("Argument of type 'string[]' is not assignable to parameter of type 'string'")
  })
})

describe('the checks, process and probes options', () => {
  test('checks: a function or { check, ...options } per name', () => {
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      checks: { db: async () => ({ status: 'ok' }), redis: { check: () => {}, timeout: 200, critical: false } }
    })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', checks: { db: 'SELECT 1' } })).type.toRaiseError("Type 'string' is not assignable to type 'CheckFunction | CheckDefinition")
  })

  test('process: true or settings', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', process: true })).type.not.toRaiseError()
    const settings: ProcessChecksOptions = { interval: 1000, eventLoopDelay: { warn: 50 }, memory: { rss: { fail: 500 } }, uptime: false }
    expect(app.register(fastifyHealth, { serviceName: 'orders', process: settings })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', process: { cpu: true } })).type.toRaiseError("'cpu' does not exist in type 'ProcessChecksOptions'")
  })

  test('probes, exposeDetails and shutdownDelay', () => {
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      probes: { live: '/livez', ready: '/readyz', started: false },
      exposeDetails: (request) => request.headers['x-token'] === 'secret',
      shutdownDelay: 5000
    })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', probes: { live: true } })).type.toRaiseError("Type 'true' is not assignable to type 'string | false | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', exposeDetails: 'yes' })).type.toRaiseError("Type 'string' is not assignable to type")
  })
})

describe('onChange and shutdown', () => {
  test('a listener gets the statuses and the report; subscribing returns the unsubscribe function', () => {
    const unsubscribe = app.health.onChange((current, previous, report) => {
      expect(current).type.toBe<Status>()
      expect(previous).type.toBe<Status>()
      expect(report).type.toBe<HealthReport>()
    })
    expect(unsubscribe).type.toBe<() => void>()
    expect(app.health.onChange('listener')).type.toRaiseError("Argument of type 'string' is not assignable to parameter of type 'ChangeListener'")
  })

  test('shutdown() resolves when the instance is closed', () => {
    expect(app.health.shutdown()).type.toBe<Promise<void>>()
  })
})

describe('the ready-made checks', () => {
  test('a factory returns { check, close }: for addCheck or the checks option, spread to add options', () => {
    const made = tcpCheck('db', 5432)
    expect(made).type.toBe<ReadyMadeCheck>()
    expect(made.close).type.toBe<() => Promise<void>>()
    expect(made).type.toBeAssignableTo<CheckDefinition>()
    expect(app.health.addCheck('db', tcpCheck('db', 5432), { timeout: 500 })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      checks: { db: { ...tcpCheck('db', 5432), critical: false }, disk: diskCheck('/var/lib/orders') }
    })).type.not.toRaiseError()
  })

  test('every factory of the catalogue returns one', () => {
    expect(dnsCheck('db.internal')).type.toBe<ReadyMadeCheck>()
    expect(diskCheck('/')).type.toBe<ReadyMadeCheck>()
    expect(tlsCertificateCheck('db:443')).type.toBe<ReadyMadeCheck>()
    expect(postgresCheck).type.toBe<(target: unknown, options?: PostgresCheckOptions) => ReadyMadeCheck>()
    expect(mysqlCheck).type.toBe<(target: unknown, options?: MysqlCheckOptions) => ReadyMadeCheck>()
    expect(redisCheck).type.toBe<(target: RedisTarget, options?: RedisCheckOptions) => ReadyMadeCheck>()
    expect<ReturnType<typeof rabbitmqCheck>>().type.toBe<ReadyMadeCheck>()
    expect<ReturnType<typeof underPressureCheck>>().type.toBe<ReadyMadeCheck>()
  })

  test('a ready-made check is not a check function: it is not called', () => {
    expect(tcpCheck('db', 5432)).type.not.toBeAssignableTo<CheckFunction>()
  })
})
