// A test server's log (spawnServer): both of its outputs go into one file, kept open until both
// have closed. A server killed mid-write closes its outputs one after the other: the log used to
// end with the first, and the other's last lines were lost, or written while it was ending, an
// error that no listener heard (ERR_STREAM_WRITE_AFTER_END, which failed a test file once in CI).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'tap'
import { scratchDir, waitFor } from './servers/common.js'
import { spawnServer } from './servers/datastore.js'

test('the log keeps what a server wrote on either output, whichever closes first', async (t) => {
  const dir = await scratchDir('log')
  t.teardown(dir.remove)
  const logFile = join(dir.path, 'server.log')
  // Standard output closes first; standard error writes after it.
  const server = spawnServer('/bin/sh', ['-c', 'echo first; exec 1>&-; sleep 0.2; echo last >&2'], logFile)
  t.equal(await server.exited, '0', 'the server exited')
  const text = await waitFor('the log to hold both lines', async () => {
    const logged = await readFile(logFile, 'utf8')
    return /last/.test(logged) ? logged : undefined
  }, 5000, 20)
  t.equal(text, 'first\nlast\n', 'both lines, in the order they were written')
})
