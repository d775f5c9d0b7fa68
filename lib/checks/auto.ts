// autoChecks: the clients that Fastify's own datastore plugins decorate the instance with, and
// @fastify/under-pressure's figures, found once every plugin has loaded, and checked with the
// ready-made checks. Loaded only when the option is on.
import type { FastifyInstance } from 'fastify'
import type { CheckRegistry } from '../engine/registry.js'
import type { CheckOptions, ComponentDetail } from '../engine/types.js'
import type { ResponseTimeOptions } from './common.js'
import { oneLine } from './common.js'
import type { ReadyMadeCheck } from './ready-made.js'
import { mysqlCheck, mysqlInstances } from './mysql.js'
import { postgresCheck, postgresInstances } from './postgres.js'
import { redisCheck, redisInstances } from './redis.js'
import { hasUnderPressure, UNDER_PRESSURE_CHECK, underPressureCheck, type UnderPressureTarget } from './under-pressure.js'

/** Check options for the checks autoChecks registers, and the round-trip thresholds. */
export type AutoChecksOptions = CheckOptions & Pick<ResponseTimeOptions, 'warn' | 'fail'>

type Found = Array<{ name: string | undefined, target: unknown }>

interface Kind {
  check: string
  /** What of this kind the instance holds. */
  find: (fastify: FastifyInstance) => Found
  /** One check for all of it. */
  make: (found: Found, thresholds: ResponseTimeOptions) => ReadyMadeCheck
}

const decorated = (fastify: FastifyInstance, decorator: string): unknown =>
  fastify.hasDecorator(decorator) ? (fastify as unknown as Record<string, unknown>)[decorator] : undefined

/** A datastore plugin's kind: its clients under `decorator`, one ready-made check per client. */
const datastore = (
  check: string, decorator: string, instances: (decorator: unknown) => Found, factory: (target: never, options: ResponseTimeOptions) => ReadyMadeCheck
): Kind => ({
  check,
  find: (fastify) => instances(decorated(fastify, decorator)),
  make: (found, thresholds) => checkEach(found.map(({ name, target }) => ({ name, ...factory(target as never, thresholds) })))
})

// One entry per plugin: @fastify/postgres, @fastify/redis, @fastify/mysql, @fastify/under-pressure
// (the round-trip thresholds do not apply to it: its own limits decide).
const kinds: Kind[] = [
  datastore('postgres:responseTime', 'pg', postgresInstances, postgresCheck),
  datastore('redis:responseTime', 'redis', redisInstances, redisCheck),
  datastore('mysql:responseTime', 'mysql', mysqlInstances, mysqlCheck),
  {
    check: UNDER_PRESSURE_CHECK,
    find: (fastify) => hasUnderPressure(fastify) ? [{ name: undefined, target: fastify }] : [],
    make: (found) => underPressureCheck((found[0] as { target: UnderPressureTarget }).target)
  }
]

/** One check for several instances: an entry (a draft "node") per instance, each named; close() closes each. */
function checkEach (parts: Array<{ name: string | undefined } & ReadyMadeCheck>): ReadyMadeCheck {
  const check: ReadyMadeCheck['check'] = async (signal, context) => {
    const entries = await Promise.all(parts.map(async ({ name, check }): Promise<ComponentDetail[]> => {
      try {
        // A ready-made check reads one detail, with the server as its componentId.
        const detail = await check(signal, context) as ComponentDetail
        return [name === undefined ? detail : { ...detail, componentId: `${name} (${String(detail.componentId)})` }]
      } catch (error) {
        // The ready-made checks report failures as readings; this is the timeout's abort.
        return [{ componentType: 'datastore', componentId: name ?? 'default', status: 'fail', output: oneLine(error) }]
      }
    }))
    return entries.flat()
  }
  return { check, close: async () => { await Promise.all(parts.map((part) => part.close())) } }
}

/** Registers one check per kind of datastore found; returns what it registered, by check name. */
export function registerAutoChecks (fastify: FastifyInstance, checks: CheckRegistry, options: AutoChecksOptions): Record<string, string[]> {
  const { warn, fail, ...checkOptions } = options
  const registered: Record<string, string[]> = {}
  for (const kind of kinds) {
    const instances = kind.find(fastify)
    if (instances.length === 0) continue
    if (checks.get(kind.check) !== undefined) {
      fastify.log.info({ check: kind.check }, 'fastify-health: autoChecks left a check of the app\'s own in place')
      continue
    }
    checks.add(kind.check, kind.make(instances, { warn, fail }), checkOptions)
    registered[kind.check] = instances.map(({ name }) => name ?? 'default')
  }
  return registered
}
