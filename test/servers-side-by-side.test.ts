// Test servers started side by side, as files running beside each other start them: three
// MariaDB servers at once all start (they shared /tmp as their tmpdir, and each start-up deleted
// the others' temporary tables), and startSideBySide() stops every server that started when
// another failed to.
import t, { test } from 'tap'
import { startSideBySide } from './servers/common.js'
import { startMysql } from './servers/mysql.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(300_000)

/** Whether a process with this pid is alive. */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('five MariaDB servers start at once, each on its own port', async (t) => {
  const servers = await startSideBySide(t, Array.from({ length: 5 }, () => startMysql()))
  t.equal(new Set(servers.map((server) => server.port)).size, 5, 'five ports')
  for (const server of servers) t.ok(alive(server.pid), `port ${server.port}: running`)
})

test('a start that fails: the servers that did start are stopped at teardown', async (t) => {
  let pid = 0
  await t.test('starting', async (t) => {
    const starts = [startRedis().then((server) => { pid = server.pid; return server }), Promise.reject(new Error('no such server'))] as const
    await t.rejects(startSideBySide(t, starts), { message: 'no such server' }, 'the failure is thrown')
    t.ok(pid > 0 && alive(pid), 'Redis started and runs until the teardown')
  })
  t.ok(pid > 0 && !alive(pid), 'Redis was stopped')
})
