// The ready-made checks of fastify-health/checks, given explicitly. Type-checked by
// `npm run typecheck`; the clients are the app's own (pg, ioredis, amqplib).
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth from 'fastify-health'
import {
  diskCheck, dnsCheck, httpCheck, postgresCheck, rabbitmqCheck, redisCheck, tcpCheck, tlsCertificateCheck
} from 'fastify-health/checks'
import type { Pool } from 'pg'
import type { Redis } from 'ioredis'
import type { ChannelModel } from 'amqplib'

export async function buildApp (clients: { pool: Pool, redis: Redis, broker: ChannelModel }): Promise<FastifyInstance> {
  const app = Fastify({ logger: true })
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    // Each ready-made check is { check, close }: spread it to add options. The plugin calls
    // close() on removeCheck() and when the instance closes (the client's listeners go).
    checks: {
      // SELECT 1 on one pooled connection; warn past 100 ms, fail past 1 s.
      'postgres:responseTime': { ...postgresCheck(clients.pool, { warn: 100, fail: 1000 }), timeout: 2000, tags: ['critical'] },
      'redis:responseTime': redisCheck(clients.redis),
      // A broker is a component, not a datastore; not critical: a warning, not an outage.
      'rabbitmq:responseTime': { ...rabbitmqCheck(clients.broker), critical: false },
      'billing:responseTime': httpCheck('https://billing.internal/health', { expect: { min: 200, max: 299 }, warn: 500 }),
      'smtp:connections': { ...tcpCheck('mail.internal', 25), probes: [] },
      'dns:responseTime': dnsCheck('billing.internal', { expect: ['10.0.0.7'] }),
      'disk:utilization': diskCheck('/var/lib/orders', { maxUsedPercent: { warn: 80, fail: 95 } }),
      'tls:certificate': { ...tlsCertificateCheck('billing.internal:443', { warnDays: 21 }), interval: 3_600_000 }
    },
    groups: {
      // GET /health/datastores; GET /health/checks/redis:responseTime answers one check.
      datastores: { include: ['postgres:*', 'redis:*'] },
      // Readiness counts the critical checks only.
      ready: { include: ['tag:critical'] }
    }
  })
  return app
}
