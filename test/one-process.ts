// Runs several test files one after another in one process (scripts/test-unit.sh, the `shared`
// files). Each test process first spends 0.5-1 s of CPU loading tap, its hooks, the plugin and the
// helpers, more than most of these files then take to run their tests. Run together in three
// processes, they took a line of CI a sixth less CPU (Node.js 24: 111-119 s, where 133-143 s).
//
// A file's tests are made on tap's root test when it is imported, and the root runs its tests one
// at a time, in the order they were made. So after each file's tests a test of ours is made,
// which runs once every test of that file has ended: the next file is imported only then, and
// nothing of it runs beside the one before. That test also checks that the file left no listener
// on the process, which would reach the files after it.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'

const defaults = {
  /** The longest a file may take, as .taprc's `timeout` gives a process of its own. */
  timeout: 60_000
}

/**
 * The events a test may listen to on the process. Not `exit` and `beforeExit`: tap listens to
 * them from its first test on, and pino from the first logger with a stream of its own to the
 * last (on-exit-leak-free).
 */
const PROCESS_EVENTS = ['warning', 'uncaughtException', 'unhandledRejection', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const

const listeners = (): Record<string, number> =>
  Object.fromEntries(PROCESS_EVENTS.map((event) => [event, process.listenerCount(event)]))

export async function runInOneProcess (files: readonly string[]): Promise<void> {
  t.setTimeout(files.length * defaults.timeout)
  for (const file of files) {
    const before = listeners()
    // Imported inside a test of the root's: once a file has set a teardown on the root, tap ends
    // the root as soon as it has nothing to run, which the time an import takes could be.
    await t.test(`${file}: loaded, its tests made`, async (t) => {
      await t.resolves(import(pathToFileURL(resolve(file)).href), 'it loads')
    })
    await t.test(`${file}: every test of it ended, and it left no listener on the process`, async (t) => {
      t.strictSame(listeners(), before)
    })
  }
}
