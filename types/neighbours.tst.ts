import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyRequest } from 'fastify'
import { describe, expect, test } from 'tstyche'
import fastifyHealth, { HEALTH_ROUTE_CONFIG, type HealthRouteOptions, isHealthRoute } from '../lib/index.js'
import { type ReadyMadeCheck, underPressureCheck, type UnderPressureTarget } from '../lib/checks/index.js'

const app = Fastify()

describe('routeOptions', () => {
  test('config, constraints and the request hooks are taken, typed as Fastify types them', () => {
    expect(app.register(fastifyHealth, {
      serviceName: 'orders',
      routeOptions: {
        config: { rateLimit: false, anything: 1 },
        constraints: { host: 'internal.example' },
        onRequest: async (request) => { expect(request).type.toBe<FastifyRequest>() },
        preHandler: [async () => {}],
        onSend: async (_request, _reply, payload) => payload
      }
    })).type.not.toRaiseError()
  })

  test('the options the plugin keeps are refused', () => {
    expect(app.register(fastifyHealth, { serviceName: 'orders', routeOptions: { handler: () => {} } })).type.toRaiseError("'handler' does not exist in type 'HealthRouteOptions'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', routeOptions: { url: '/x' } })).type.toRaiseError("'url' does not exist in type 'HealthRouteOptions'")
    expect(app.register(fastifyHealth, { serviceName: 'orders', routeOptions: { config: 'public' } })).type.toRaiseError()
  })

  test('the exports', () => {
    expect<HealthRouteOptions>().type.toBeAssignableFrom({ config: { health: false } })
    expect(HEALTH_ROUTE_CONFIG).type.toBe<Readonly<Record<string, unknown>>>()
    expect(isHealthRoute).type.toBe<(request: FastifyRequest) => boolean>()
  })
})

describe('underPressureCheck', () => {
  test('takes an instance with under-pressure\'s decorations and returns a check', async () => {
    const pressured = Fastify()
    await pressured.register(underPressure)
    expect(underPressureCheck(pressured)).type.toBe<ReadyMadeCheck>()
    expect<UnderPressureTarget>().type.toBeAssignableFrom(pressured)
  })
  test('anything else is refused', () => {
    expect(underPressureCheck('app')).type.toRaiseError()
    expect(underPressureCheck({ memoryUsage: () => 1 })).type.toRaiseError()
  })
})
