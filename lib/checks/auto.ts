// autoChecks: the clients that Fastify's own datastore plugins decorate the instance with,
// found once every plugin has loaded, and checked with the ready-made checks. Loaded only when
// the option is on.
import type { FastifyInstance } from 'fastify'
import type { CheckRegistry } from '../engine/registry.js'
import type { CheckFunction, CheckOptions, ComponentDetail } from '../engine/types.js'
import type { ResponseTimeOptions } from './common.js'
import { oneLine } from './common.js'
import { mysqlCheck, mysqlInstances } from './mysql.js'
import { postgresCheck, postgresInstances } from './postgres.js'
import { redisCheck, redisInstances } from './redis.js'

/** Check options for the checks autoChecks registers, and the round-trip thresholds. */
export type AutoChecksOptions = CheckOptions & Pick<ResponseTimeOptions, 'warn' | 'fail'>

interface Kind {
  /** The decorator the plugin sets on the instance. */
  decorator: string
  check: string
  instances: (decorator: unknown) => Array<{ name: string | undefined, target: unknown }>
  factory: (target: never, options: ResponseTimeOptions) => CheckFunction
}

// One entry per plugin: @fastify/postgres, @fastify/redis, @fastify/mysql.
const kinds: Kind[] = [
  { decorator: 'pg', check: 'postgres:responseTime', instances: postgresInstances, factory: postgresCheck },
  { decorator: 'redis', check: 'redis:responseTime', instances: redisInstances, factory: redisCheck },
  { decorator: 'mysql', check: 'mysql:responseTime', instances: mysqlInstances, factory: mysqlCheck }
]

/** One check for several instances: an entry (a draft "node") per instance, each named. */
function checkEach (parts: Array<{ name: string | undefined, check: CheckFunction }>): CheckFunction {
  return async (signal, context) => {
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
}

/** Registers one check per kind of datastore found; returns what it registered, by check name. */
export function registerAutoChecks (fastify: FastifyInstance, checks: CheckRegistry, options: AutoChecksOptions): Record<string, string[]> {
  const { warn, fail, ...checkOptions } = options
  const registered: Record<string, string[]> = {}
  for (const kind of kinds) {
    const decorator = fastify.hasDecorator(kind.decorator) ? (fastify as unknown as Record<string, unknown>)[kind.decorator] : undefined
    const instances = kind.instances(decorator)
    if (instances.length === 0) continue
    if (checks.has(kind.check)) {
      fastify.log.info({ check: kind.check }, 'fastify-health: autoChecks left a check of the app\'s own in place')
      continue
    }
    const parts = instances.map(({ name, target }) => ({ name, check: kind.factory(target as never, { warn, fail }) }))
    checks.add(kind.check, checkEach(parts), checkOptions)
    registered[kind.check] = instances.map(({ name }) => name ?? 'default')
  }
  return registered
}
