// Shared by every bench server: where to listen, the ready line, and the stats channel.
//
// Stats channel: the orchestrator forks each server with an IPC channel and asks for
// { type: 'stats' }; the server answers with its own process.cpuUsage(), RSS, heap and the
// call counts of its check functions. process.cpuUsage() rather than /proc/<pid>/stat:
// it has microsecond resolution (utime/stime in /proc are in clock ticks, 10 ms here),
// it counts every thread of the process (main thread, GC helpers, libuv pool) exactly like
// utime+stime do, it is portable, and the same message carries RSS and the counters. The
// price is one IPC round trip before and one after the measured run, outside the load.

import { getHeapSpaceStatistics } from 'node:v8'

export const HOST = '127.0.0.1'

/** The port to listen on: BENCH_PORT, else the first argument, else 0 (any free port). */
export function listenPort () {
  const raw = process.env.BENCH_PORT ?? process.argv[2] ?? '0'
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bench server: bad port ${raw}`)
  return port
}

function readStats (counts, gc) {
  if (gc && typeof globalThis.gc === 'function') globalThis.gc()
  const cpu = process.cpuUsage()
  const { rss, heapUsed } = process.memoryUsage()
  // The young generation's reserved size: V8 grows it under load, and it shows in RSS.
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? null
  return { cpu, rss, heapUsed, newSpace, counts: counts === undefined ? null : { ...counts } }
}

function serveIpc (counts) {
  if (typeof process.send !== 'function') return
  process.on('message', (message) => {
    if (message?.type === 'stats') {
      process.send({ type: 'stats', id: message.id, ...readStats(counts, message.gc === true) })
    } else if (message?.type === 'exit') {
      // A normal exit, so that --cpu-prof can write its profile.
      process.exit(0)
    }
  })
  // The orchestrator is gone (crashed, killed): never outlive it.
  process.on('disconnect', () => process.exit(0))
}

/**
 * Prints the ready line (one JSON object on stdout) and starts answering stats requests.
 * `counts` is a live object of counters (check function calls), copied on every request.
 */
export function announce ({ target, port, path, counts, note }) {
  // BENCH_SETTLE=1 (with --expose-gc): two full GCs first, while idle, as a server that has run a
  // while has had. After one, every process.nextTick costs ~5x more for good (Node.js 20 to 26:
  // bench/next-tick-gc.mjs), so processes compared must all have had one, or none.
  if (process.env.BENCH_SETTLE === '1') for (let i = 0; i < 2; i++) globalThis.gc()
  serveIpc(counts)
  process.stdout.write(JSON.stringify({ ready: true, target, host: HOST, port, path, pid: process.pid, note }) + '\n')
}

/** Prints a ready line that says the target cannot run here, and why, then exits. */
export function skip (target, reason) {
  process.stdout.write(JSON.stringify({ ready: false, target, skipped: reason, pid: process.pid }) + '\n', () => {
    process.exit(0)
  })
}

/** The Working answer of fastify-health for serviceName 'bench', copied literally. */
export const WORKING_BODY = { status: 'pass', notes: ['Service is running'], serviceId: 'bench' }
