import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, test } from 'tstyche'
import fastifyHealth, {
  createHealthServer, DEFAULT_STATUS_CODES, type FastifyHealthOptions, fastifyHealth as namedFastifyHealth,
  type HealthController, type HealthCheckEntry, type HealthChecks, type HealthLinks, type HealthReport, type HealthResponse,
  type HealthServer, type HealthServerOptions, type HealthStatus, State, Status,
  type CheckOptions, type GroupSelector, type HealthGroupOptions,
  CHECK_CHANNEL, type HealthCheckStatusMessage, type HealthStatusMessage, type OpenTelemetryMeterProvider, type OpenTelemetryOptions,
  type PrometheusOptions, type PrometheusRegistry, STATUS_CHANNEL
} from '../lib/index.js'
import { type MeterProvider as ApiMeterProvider, metrics as otelMetrics } from '@opentelemetry/api'
import { MeterProvider as SdkMeterProvider } from '@opentelemetry/sdk-metrics'
import { Registry, register as promRegister } from 'prom-client'

test('register with a service name', async () => {
  const app = Fastify()
  expect(app.register(fastifyHealth, 'orders')).type.not.toRaiseError()
  expect(app.register(fastifyHealth, 42)).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
  expect(app.health.state).type.toBe<State>()
})

describe('register', () => {
  const app = Fastify()

  test('the default export is the named export', () => {
    expect(fastifyHealth).type.toBe<typeof namedFastifyHealth>()
  })

  test('with an options object: every option, and Fastify\'s prefix and logLevel', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders' })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      path: '/status',
      version: '1',
      releaseId: '1.0.0-abc',
      description: 'Orders',
      links: { about: 'https://example.com/about' },
      initialState: State.WARMUP,
      cacheControl: 'no-store',
      statusCodes: { pass: 200, warn: 200, fail: 500 },
      prefix: '/ops',
      logLevel: 'warn'
    })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', initialState: 'Working' })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', statusCodes: { warn: 200 } })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', cacheControl: false })).type.not.toRaiseError()
  })

  test('options as a function of the parent instance, as Fastify allows', () => {
    expect(app.register(fastifyHealth, () => ({ serviceName: 'orders' }))).type.not.toRaiseError()
  })

  test('the register forms return the instance, awaitable', () => {
    expect(app.register(fastifyHealth, 'orders')).type.toBeAssignableTo<PromiseLike<unknown>>()
    expect(app.register(fastifyHealth, { serviceName: 'orders' })).type.toBeAssignableTo<PromiseLike<unknown>>()
  })

  test('a number, a boolean or null instead of the options are rejected', () => {
    expect(app.register(fastifyHealth, 42)).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
    expect(app.register(fastifyHealth, true)).type.toRaiseError("Argument of type 'boolean' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
    expect(app.register(fastifyHealth, null)).type.toRaiseError("Argument of type 'null' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
    expect(app.register(fastifyHealth, ['orders'])).type.toRaiseError("Argument of type 'string[]' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
  })

  test('serviceName is required', () => {
    expect(app.register(fastifyHealth, {})).type.toRaiseError("Argument of type '{}' is not assignable to parameter of type 'FastifyRegisterOptions<FastifyHealthOptions>'")
    expect(app.register(fastifyHealth, { path: '/health' })).type.toRaiseError("Property 'serviceName' is missing in type '{ path: string; }' but required in type 'FastifyHealthOptions'")
  })

  test('an unknown key is rejected', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', bogus: 1 })).type.toRaiseError("'bogus' does not exist in type 'FastifyRegisterOptions<FastifyHealthOptions>'")
    expect(app.register(fastifyHealth, { servicename: 'orders' })).type.toRaiseError("'servicename' does not exist in type 'FastifyRegisterOptions<FastifyHealthOptions>'")
  })

  test('ill-typed options are rejected', () => {
    expect(app.register(fastifyHealth, { serviceName: 42 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', path: 1 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', version: 1 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', releaseId: 1 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', description: {} })).type.toRaiseError("Type '{}' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', links: { about: 1 } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', links: ['https://example.com'] })).type.toRaiseError("Type 'string[]' is not assignable to type 'Record<string, string>'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', initialState: 'bogus' })).type.toRaiseError("Type '\"bogus\"' is not assignable to type 'State | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', initialState: 'pass' })).type.toRaiseError("Type '\"pass\"' is not assignable to type 'State | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', cacheControl: 5 })).type.toRaiseError("Type 'number' is not assignable to type 'string | false | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', cacheControl: true })).type.toRaiseError("Type 'true' is not assignable to type 'string | false | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', statusCodes: { ok: 200 } })).type.toRaiseError("'ok' does not exist in type 'Partial<Record<Status, number>>'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', statusCodes: { pass: '200' } })).type.toRaiseError("Type 'string' is not assignable to type 'number'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', logLevel: 'loud' })).type.toRaiseError("Type '\"loud\"' is not assignable to type 'LevelWithSilent | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', prefix: 1 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
  })

  test('FastifyHealthOptions', () => {
    expect<FastifyHealthOptions['serviceName']>().type.toBe<string>()
    expect<FastifyHealthOptions['initialState']>().type.toBe<State | undefined>()
    expect<FastifyHealthOptions['links']>().type.toBe<Record<string, string> | undefined>()
    expect<FastifyHealthOptions['statusCodes']>().type.toBe<Partial<Record<Status, number>> | undefined>()
  })
})

describe('groups, drillDown and tags', () => {
  const app = Fastify()

  test('groups: every group option, the probes redefined, drillDown', () => {
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      groups: {
        db: { include: ['db:*', 'db:responseTime', 'tag:critical'], exclude: ['db:replica'] },
        public: { path: '/status', exposeDetails: false, statusCodes: { warn: 200 } },
        internal: { exposeDetails: (request) => request.headers['x-token'] === 'secret' },
        ready: { include: ['db:*'] }
      },
      drillDown: false
    })).type.not.toRaiseError()
    expect<FastifyHealthOptions['groups']>().type.toBe<Record<string, HealthGroupOptions> | undefined>()
    expect<FastifyHealthOptions['drillDown']>().type.toBe<boolean | undefined>()
    expect<HealthGroupOptions['include']>().type.toBe<GroupSelector[] | undefined>()
    expect<HealthGroupOptions['statusCodes']>().type.toBe<Partial<Record<Status, number>> | undefined>()
  })

  test('ill-typed groups are rejected', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: ['db'] })).type.toRaiseError("Type 'string' has no properties in common with type 'HealthGroupOptions'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: { db: { include: 'db:*' } } })).type.toRaiseError("Type 'string' is not assignable to type 'string[]'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: { db: { includes: ['db:*'] } } })).type.toRaiseError("'includes' does not exist in type 'HealthGroupOptions'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: { db: { path: 1 } } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: { db: { exposeDetails: 'yes' } } })).type.toRaiseError("Type 'string' is not assignable to type 'DetailOption | undefined'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', groups: { db: { statusCodes: { ok: 200 } } } })).type.toRaiseError("'ok' does not exist in type 'Partial<Record<Status, number>>'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', drillDown: 'no' })).type.toRaiseError("Type 'string' is not assignable to type 'boolean | undefined'")
  })

  test('tags: an array of strings', () => {
    expect<CheckOptions['tags']>().type.toBe<string[] | undefined>()
    expect(app.health.addCheck).type.toBeCallableWith('db:responseTime', () => undefined, { tags: ['critical'] })
    expect(app.register(fastifyHealth, { serviceName: 'orders', checks: { db: { check: () => undefined, tags: ['critical'] } } })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', checks: { db: { check: () => undefined, tags: 'critical' } } })).type.toRaiseError("Type 'string' is not assignable to type 'string[]'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', checks: { db: { check: () => undefined, tags: [1] } } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.health.addCheck).type.not.toBeCallableWith('db:responseTime', () => undefined, { tags: 'critical' })
  })

  test('a check\'s status: the draft\'s three and the aliases its readers accept, nothing else', () => {
    for (const status of ['pass', 'warn', 'fail', 'ok', 'up', 'error', 'down'] as const) {
      expect(app.health.addCheck).type.toBeCallableWith('db', () => ({ status }))
    }
    expect(app.health.addCheck).type.toBeCallableWith('db', async () => ({ status: 'warn' }))
    expect(app.health.addCheck).type.not.toBeCallableWith('db', () => ({ status: 'green' as const }))
    expect(app.health.addCheck('db', async () => ({ status: 'green' }))).type.toRaiseError("Type '\"green\"' is not assignable to type 'CheckStatus | undefined'")
  })

  test('a check as a resource: { check, close }', () => {
    expect(app.health.addCheck).type.toBeCallableWith('db', { check: () => undefined, close: async () => {} })
    expect(app.health.addCheck).type.toBeCallableWith('db', { check: () => undefined, close: () => {}, timeout: 500 }, { critical: false })
    expect(app.health.addCheck).type.not.toBeCallableWith('db', { check: () => undefined, close: 'no' })
  })
})

describe('fastify.health', () => {
  const app = Fastify()

  test('is the HealthController', () => {
    expect(app.health).type.toBe<HealthController>()
  })

  test('state is a read-only State', () => {
    expect(app.health.state).type.toBe<State>()
    expect(() => { app.health.state = State.WORK }).type.toRaiseError("Cannot assign to 'state' because it is a read-only property")
  })

  test('setState takes a State, and nothing else', () => {
    expect(app.health.setState).type.toBeCallableWith(State.WORK)
    expect(app.health.setState).type.toBeCallableWith('Shutting down')
    expect(app.health.setState).type.not.toBeCallableWith('bogus')
    expect(app.health.setState).type.not.toBeCallableWith('pass')
    expect(app.health.setState).type.not.toBeCallableWith()
    expect(app.health.setState(State.WARMUP)).type.toBe<void>()
  })

  test('the four named setters take nothing and return nothing', () => {
    expect(app.health.setStateWarmUp()).type.toBe<void>()
    expect(app.health.setStateWorking()).type.toBe<void>()
    expect(app.health.setStateShutDown()).type.toBe<void>()
    expect(app.health.setStateNoInfo()).type.toBe<void>()
    expect(app.health.setStateWorking).type.not.toBeCallableWith(State.WORK)
  })

  test('report() returns Promise<HealthReport>', () => {
    expect(app.health.report()).type.toBe<Promise<HealthReport>>()
    expect<HealthReport>().type.toBe<{ statusCode: number, body: HealthResponse }>()
  })
})

describe('State and Status', () => {
  test('State values are their literal strings', () => {
    expect(State.WARMUP).type.toBe<'Warming up'>()
    expect(State.WORK).type.toBe<'Working'>()
    expect(State.SHUTDOWN).type.toBe<'Shutting down'>()
    expect(State.NOINFO).type.toBe<'No information'>()
    expect<State>().type.toBe<'Warming up' | 'Working' | 'Shutting down' | 'No information'>()
  })

  test('Status values are their literal strings', () => {
    expect(Status.PASS).type.toBe<'pass'>()
    expect(Status.WARN).type.toBe<'warn'>()
    expect(Status.FAIL).type.toBe<'fail'>()
    expect<Status>().type.toBe<'pass' | 'warn' | 'fail'>()
  })

  test('the value objects are read-only', () => {
    expect(() => { State.WORK = 'Working' }).type.toRaiseError("Cannot assign to 'WORK' because it is a read-only property")
    expect(() => { Status.PASS = 'pass' }).type.toRaiseError("Cannot assign to 'PASS' because it is a read-only property")
  })

  test('DEFAULT_STATUS_CODES maps every status to a number', () => {
    expect(DEFAULT_STATUS_CODES).type.toBe<Readonly<Record<Status, number>>>()
  })
})

describe('schema Static types', () => {
  test('HealthStatus is Status', () => {
    expect<HealthStatus>().type.toBe<Status>()
  })

  test('HealthResponse', () => {
    expect<HealthResponse>().type.toBe<{
      status: 'pass' | 'warn' | 'fail'
      version?: string
      releaseId?: string
      notes?: string[]
      output?: string
      checks?: HealthChecks
      links?: HealthLinks
      serviceId?: string
      description?: string
    }>()
    expect({ status: 'pass' as const }).type.toBeAssignableTo<HealthResponse>()
    expect({ status: 'ok' as const }).type.not.toBeAssignableTo<HealthResponse>()
    expect({ notes: ['no status'] }).type.not.toBeAssignableTo<HealthResponse>()
    expect({ status: 'pass' as const, notes: 'not an array' }).type.not.toBeAssignableTo<HealthResponse>()
  })

  test('HealthLinks, HealthChecks and HealthCheckEntry', () => {
    expect<HealthLinks>().type.toBe<{ [x: string]: string }>()
    expect<HealthChecks>().type.toBe<{ [x: string]: HealthCheckEntry[] }>()
    expect<HealthCheckEntry['observedValue']>().type.toBe<unknown>()
    expect<HealthCheckEntry['status']>().type.toBe<'pass' | 'warn' | 'fail' | undefined>()
    expect({
      'db:responseTime': [{
        componentId: 'db-1',
        componentType: 'datastore',
        observedValue: 12,
        observedUnit: 'ms',
        status: 'pass' as const,
        time: '2021-10-01T00:00:00Z'
      }]
    }).type.toBeAssignableTo<HealthChecks>()
    expect({ 'db:responseTime': { status: 'pass' as const } }).type.not.toBeAssignableTo<HealthChecks>()
  })
})

describe('createHealthServer', () => {
  test('returns a HealthServer', () => {
    const server = createHealthServer({ serviceName: 'worker' })
    expect(server).type.toBe<HealthServer>()
    expect(server.health).type.toBe<HealthController>()
    expect(server.fastify).type.toBe<FastifyInstance>()
    expect(server.listen()).type.toBe<Promise<string>>()
    expect(server.close()).type.toBe<Promise<void>>()
    const other = {} as HealthController
    expect(() => { server.health = other }).type.toRaiseError("Cannot assign to 'health' because it is a read-only property")
  })

  test('takes the plugin options plus host, port and logger', () => {
    expect(createHealthServer).type.toBeCallableWith({ serviceName: 'worker', host: '127.0.0.1', port: 0 })
    expect(createHealthServer).type.toBeCallableWith({
      serviceName: 'worker', path: '/ready', version: '1', initialState: State.WARMUP, statusCodes: { fail: 500 }
    })
    expect(createHealthServer).type.toBeCallableWith({ serviceName: 'worker', logger: true })
    expect(createHealthServer).type.toBeCallableWith({ serviceName: 'worker', logger: { level: 'info' } })
    expect(createHealthServer).type.toBeCallableWith({ serviceName: 'worker', logger: Fastify().log })
    expect<HealthServerOptions>().type.toBeAssignableTo<FastifyHealthOptions>()
  })

  test('rejects wrong options', () => {
    expect(createHealthServer).type.not.toBeCallableWith()
    expect(createHealthServer).type.not.toBeCallableWith('worker')
    expect(createHealthServer).type.not.toBeCallableWith({})
    expect(createHealthServer).type.not.toBeCallableWith({ serviceName: 'worker', port: '8008' })
    expect(createHealthServer).type.not.toBeCallableWith({ serviceName: 'worker', host: 127 })
    expect(createHealthServer).type.not.toBeCallableWith({ serviceName: 'worker', logger: 'info' })
    expect(createHealthServer).type.not.toBeCallableWith({ serviceName: 'worker', bogus: 1 })
  })
})

describe('metrics and events', () => {
  const app = Fastify()

  test('openTelemetry: true, or the MeterProvider of the API or of an SDK', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', openTelemetry: true })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', openTelemetry: { meterProvider: otelMetrics.getMeterProvider() } })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', openTelemetry: { meterProvider: new SdkMeterProvider() } })).type.not.toRaiseError()
    expect<ApiMeterProvider>().type.toBeAssignableTo<OpenTelemetryMeterProvider>()
    expect<SdkMeterProvider>().type.toBeAssignableTo<OpenTelemetryMeterProvider>()
    expect<OpenTelemetryOptions>().type.toBeAssignableFrom({})
    expect(app.register(fastifyHealth, { serviceName: 'orders', openTelemetry: 'yes' })).type.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', openTelemetry: { meterProvider: {} } })).type.toRaiseError()
  })

  test('prometheus: a prom-client Registry, required', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', prometheus: { registry: new Registry() } })).type.not.toRaiseError()
    expect(app.register(fastifyHealth, { serviceName: 'orders', prometheus: { registry: promRegister } })).type.not.toRaiseError()
    expect<Registry>().type.toBeAssignableTo<PrometheusRegistry>()
    expect<PrometheusOptions>().type.not.toBeAssignableFrom({})
    expect(app.register(fastifyHealth, { serviceName: 'orders', prometheus: {} })).type.toRaiseError()
  })

  test('the channels and their messages', () => {
    expect(STATUS_CHANNEL).type.toBe<'fastify-health:status'>()
    expect(CHECK_CHANNEL).type.toBe<'fastify-health:check'>()
    expect<HealthStatusMessage>().type.toBe<{ serviceName: string, current: Status, previous: Status }>()
    expect<HealthCheckStatusMessage['previous']>().type.toBe<Status | undefined>()
    expect<HealthCheckStatusMessage['check']>().type.toBe<string>()
  })
})
