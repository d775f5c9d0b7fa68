import { statfs } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { test } from 'tap'
import Fastify from 'fastify'
import type { ComponentDetail, HealthResponse } from '../lib/index.js'
import { diskCheck } from '../lib/checks/disk.js'
import { draftErrors } from './draft-validator.js'
import { request, workingApp } from './helpers.js'
import { scratchDir } from './servers/common.js'

// diskCheck against the real file system: the test reads the figures with statfs itself and
// sets the thresholds around them (with a factor of 2 of room: other tests write to it too).

const MiB = 1024 * 1024
const context = { log: Fastify().log }
const read = async (check: ReturnType<typeof diskCheck>): Promise<ComponentDetail> =>
  await check.check(new AbortController().signal, context) as ComponentDetail

/** What the test itself reads of the file system holding `path`. */
async function figures (path: string): Promise<{ free: number, total: number, usedPercent: number }> {
  const stats = await statfs(path)
  const used = (stats.blocks - stats.bfree) * stats.bsize
  const free = stats.bavail * stats.bsize
  return { free, total: stats.blocks * stats.bsize, usedPercent: used / (used + free) * 100 }
}

test('a reading of the real file system: bytes free, the total and percent used', async (t) => {
  const dir = await scratchDir('disk')
  t.teardown(dir.remove)
  const before = await figures(dir.path)
  const reading = await read(diskCheck(dir.path))
  t.match(reading, { componentType: 'system', componentId: dir.path, observedUnit: 'bytes', total: before.total })
  const free = reading.observedValue as number
  t.ok(Number.isInteger(free) && Math.abs(free - before.free) < before.free * 0.1 + 100 * MiB, `free ${free} is what statfs says (${before.free})`)
  t.ok(Math.abs((reading.usedPercent as number) - before.usedPercent) < 1, 'percent used as df counts it')
  // The default: fail below 10 MiB free, no percent threshold.
  t.equal(reading.status, free < 10 * MiB ? 'fail' : 'pass', 'judged by the default 10 MiB')
  if (reading.status === 'pass') t.notOk('output' in reading, 'no output on pass')
})

test('a relative path and a file: URL name the absolute path', async (t) => {
  const dir = await scratchDir('disk')
  t.teardown(dir.remove)
  t.equal((await read(diskCheck('.'))).componentId, process.cwd())
  t.equal((await read(diskCheck(pathToFileURL(dir.path)))).componentId, dir.path)
  t.equal((await read(diskCheck(dir.path, { componentId: 'scratch' }))).componentId, 'scratch', 'componentId override')
})

test('minFreeBytes: pass, warn and fail around the real free space', async (t) => {
  const { free } = await figures(process.cwd())
  const check = (warn: number, fail: number): Promise<ComponentDetail> => read(diskCheck('.', { minFreeBytes: { warn, fail } }))
  t.match(await check(Math.floor(free / 4), Math.floor(free / 8)), { status: 'pass' })
  const warn = await check(free * 2, Math.floor(free / 2))
  t.equal(warn.status, 'warn')
  t.match(warn.output, new RegExp(`^free space \\d+ bytes is below the warn threshold of ${free * 2} bytes$`))
  const fail = await check(free * 4, free * 2)
  t.equal(fail.status, 'fail')
  t.match(fail.output, new RegExp(`^free space \\d+ bytes is below the fail threshold of ${free * 2} bytes$`))
})

test('maxUsedPercent: pass, warn and fail around the real percent used', async (t) => {
  const { usedPercent } = await figures(process.cwd())
  t.ok(usedPercent < 99, `this test needs a file system that is not full (${usedPercent}% used)`)
  const between = (usedPercent + 100) / 2
  // No byte threshold, to judge the percent alone.
  const check = (warn: number, fail: number): Promise<ComponentDetail> =>
    read(diskCheck('.', { minFreeBytes: {}, maxUsedPercent: { warn, fail } }))
  t.match(await check(between, 100), { status: 'pass' })
  const warn = await check(usedPercent / 2, between)
  t.equal(warn.status, 'warn')
  t.match(warn.output, /^used space [\d.]+ percent is at or above the warn threshold of [\d.]+ percent$/)
  const fail = await check(usedPercent / 4, usedPercent / 2)
  t.equal(fail.status, 'fail')
  t.match(fail.output, /^used space [\d.]+ percent is at or above the fail threshold/)
})

test('both measures: the worse decides, and the output tells what crossed at that level', async (t) => {
  const { free, usedPercent } = await figures(process.cwd())
  const both = await read(diskCheck('.', { minFreeBytes: { warn: free * 2 }, maxUsedPercent: { warn: usedPercent / 2 } }))
  t.equal(both.status, 'warn')
  t.match(both.output, /^free space .* below the warn threshold .*; used space .* at or above the warn threshold/)
  const worse = await read(diskCheck('.', { minFreeBytes: { warn: free * 2 }, maxUsedPercent: { fail: usedPercent / 2 } }))
  t.equal(worse.status, 'fail')
  t.match(worse.output, /^used space .* fail threshold/)
  t.notMatch(worse.output, /free space/, 'the lesser warn is left out')
})

test('a file system with no blocks (/proc): 0 free fails the default, 0 percent used', async (t) => {
  const reading = await read(diskCheck('/proc'))
  t.match(reading, { componentId: '/proc', observedValue: 0, total: 0, usedPercent: 0, status: 'fail' })
  t.equal(reading.output, `free space 0 bytes is below the fail threshold of ${10 * MiB} bytes`)
  t.match(await read(diskCheck('/proc', { minFreeBytes: {} })), { status: 'pass' }, 'minFreeBytes {} replaces the default')
})

test('a path that does not exist: a failed reading in one line', async (t) => {
  const dir = await scratchDir('disk')
  t.teardown(dir.remove)
  const missing = `${dir.path}/nowhere`
  const reading = await read(diskCheck(missing))
  t.match(reading, { componentType: 'system', componentId: missing, status: 'fail' })
  t.match(reading.output, /^Error: ENOENT: no such file or directory, statfs '.*nowhere'$/)
  t.notOk('observedValue' in reading, 'nothing observed')
})

test('bad targets and options throw at once, with stable codes', async (t) => {
  for (const target of [42, '', null, new URL('http://example.com/'), {}]) {
    t.throws(() => diskCheck(target as string), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, `target ${String(target)}`)
  }
  const bad: unknown[] = [
    'big', { bogus: 1 }, { warn: 5 }, { fail: 5 }, { componentId: '' },
    { minFreeBytes: 5 }, { minFreeBytes: { warn: 1, fail: 2 } }, { minFreeBytes: { warn: -1 } },
    { maxUsedPercent: { warn: 101 } }, { maxUsedPercent: { fail: 150 } }, { maxUsedPercent: { warn: 90, fail: 80 } },
    { maxUsedPercent: { level: 3 } }
  ]
  for (const options of bad) {
    t.throws(() => diskCheck('.', options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
  t.throws(() => diskCheck('.', { warn: 5 } as never), { message: /"warn" is not an option of this check \(use minFreeBytes or maxUsedPercent\)/ })
  t.doesNotThrow(() => diskCheck('.', { minFreeBytes: { warn: 2, fail: 1 }, maxUsedPercent: { warn: 80, fail: 100 } }))
})

test('through the plugin: valid answers over inject and real HTTP, warn makes /health 202', async (t) => {
  const dir = await scratchDir('disk')
  t.teardown(dir.remove)
  const { free } = await figures(dir.path)
  const app = await workingApp(t, { checks: { 'disk:free': diskCheck(dir.path, { minFreeBytes: {} }) } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  const passing = await app.inject('/health')
  t.equal(passing.statusCode, 200)
  t.strictSame(draftErrors(passing.json()), [], 'a valid draft document (inject)')
  t.match(passing.json().checks['disk:free'], [{ componentType: 'system', componentId: dir.path, observedUnit: 'bytes', status: 'pass' }])

  app.health.addCheck('disk:scratch', diskCheck(dir.path, { minFreeBytes: { warn: free * 2 } }))
  const warned = await request(`${base}/health`)
  t.equal(warned.statusCode, 202)
  t.strictSame(draftErrors(warned.body), [], 'a valid draft document (HTTP)')
  const body = warned.body as HealthResponse
  t.equal(body.status, 'warn')
  t.match(body.checks?.['disk:scratch'], [{ status: 'warn', output: /below the warn threshold/ }])

  app.health.addCheck('disk:missing', diskCheck(`${dir.path}/nowhere`))
  const failed = await request(`${base}/health`)
  t.equal(failed.statusCode, 503)
  t.strictSame(draftErrors(failed.body), [], 'a valid draft document (fail)')
  t.match((failed.body as HealthResponse).checks?.['disk:missing'], [{ status: 'fail', componentId: `${dir.path}/nowhere`, output: /ENOENT/ }])
})
