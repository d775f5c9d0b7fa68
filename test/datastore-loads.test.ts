// The ready-made datastore checks under a probe storm: with cacheFor 1000 ms, the server itself
// counts about one health query per second however many requests /health/ready gets, on one
// connection. Apart from ready-made-{postgres,mysql,redis}.test.ts so that only these loads run
// in the one-at-a-time group (scripts/test-unit.sh), never beside a test that bounds an
// answer's time; those files' timing tests run beside the others. `npm run bench:datastores`
// runs this file with 10 s loads for the table in bench/results/datastores.md.
// In the tests the three loads run side by side, which takes a third of the time: what they
// assert (every request answered, the queries each server counted) does not depend on how many
// requests one process serves. The benchmark runs them one at a time, each with the process to
// itself, since its table compares the requests served.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import mysql from 'mysql2'
import pg from 'pg'
import t, { type Test } from 'tap'
import { mysqlCheck } from '../lib/checks/mysql.js'
import { postgresCheck } from '../lib/checks/postgres.js'
import { redisCheck } from '../lib/checks/redis.js'
import type { CheckDefinition } from '../lib/index.js'
import { startSideBySide } from './servers/common.js'
import { benchmarking, load, loadSeconds, recordBench, serveHealth } from './servers/datastore.js'
import { connectionsOf, startMysql } from './servers/mysql.js'
import { startPostgres } from './servers/postgres.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(300_000)
t.jobs = benchmarking() ? 1 : 3

const CACHE_FOR = 1000

const [postgres, mariadb, redis] = await startSideBySide(t, [startPostgres(), startMysql(), startRedis()] as const)

/**
 * One load on an app whose only check is `check`: every request answered, and the health queries
 * the server counted meanwhile (`serverCount`) about one per cacheFor. Recorded for the bench table.
 */
async function storm (t: Test, kind: string, check: CheckDefinition, serverCount: () => Promise<number>): Promise<void> {
  // 2 s in the tests, 10 s for the benchmark table.
  const seconds = loadSeconds()
  const probe = await serveHealth(t, Fastify(), { [`${kind}:responseTime`]: { ...check, cacheFor: CACHE_FOR } })
  const before = await serverCount()
  const result = await load(`${probe.base}/health/ready`, seconds)
  const serverQueries = await serverCount() - before
  const requests = result.requests.total
  t.comment(`${kind}: ${requests} requests in ${seconds} s, ${serverQueries} health queries on the server (cacheFor ${CACHE_FOR} ms)`)
  t.ok(requests > seconds * 50, 'the load ran')
  t.equal(result.non2xx + result.errors + result.timeouts, 0, 'every request answered 2xx')
  t.ok(serverQueries >= 1 && serverQueries <= seconds * 1000 / CACHE_FOR + 3, `${serverQueries} queries: about one per cacheFor`)
  await recordBench({ kind, seconds, cacheFor: CACHE_FOR, requests, serverQueries })
}

t.test('postgres: about one SELECT 1 per cacheFor, on one connection', async (t) => {
  const pool = new pg.Pool(postgres.config)
  t.teardown(() => pool.end())
  await storm(t, 'postgres', postgresCheck(pool), async () => await postgres.healthQueries())
  t.ok(pool.totalCount <= 1, 'on one connection')
})

t.test('mysql: about one SELECT 1 per cacheFor, on one connection', async (t) => {
  const pool = mysql.createPool(mariadb.config)
  t.teardown(() => { pool.end() })
  await storm(t, 'mysql', mysqlCheck(pool), async () => await mariadb.healthQueries())
  t.ok(connectionsOf(pool) <= 1, 'on one connection')
})

t.test('redis: about one PING per cacheFor', async (t) => {
  const client = new Redis(redis.url)
  t.teardown(() => { client.disconnect() })
  await client.ping()
  await storm(t, 'redis', redisCheck(client), async () => await redis.pings())
})
