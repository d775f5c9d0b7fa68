// `npm start` end to end: the demo warms up, works, and drains on SIGTERM before it exits.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { schemaErrors } from './helpers.js'

const demo = fileURLToPath(new URL('../examples/demo.mjs', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/esm/index.js', import.meta.url)))

async function get (url: string): Promise<{ status: number, body: unknown }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

// Never skipped: without dist/ this test fails (`npm test` builds it first), as haproxy.test.ts does.
test('the demo service: 202 warming up, 200 working, drains on SIGTERM, exits 0', async (t) => {
  t.ok(built, 'the package is built (run `npm run build` first)')
  if (!built) return
  const child = spawn(process.execPath, [demo], {
    env: {
      ...process.env,
      PORT: '0',
      // Long enough that the first two requests land in it on a loaded machine.
      WARMUP_MS: '3000',
      SHUTDOWN_DELAY_MS: '800',
      // The demo (not library code) loads the built dist/: keep both out of lib's coverage figures.
      _TAPJS_PROCESSINFO_COV_EXCLUDE_: String(/[\\/](node_modules|dist|examples)[\\/]/)
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = once(child, 'exit')

  let output = ''
  child.stdout.setEncoding('utf8')
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (found !== null) resolve(found[1] as string)
    })
    child.on('exit', (code) => reject(new Error(`the demo exited (${String(code)}) before listening: ${output}`)))
  })

  const warming = await get(`${address}/health`)
  t.equal(warming.status, 202, 'warming up: 202')
  t.match(warming.body, { status: 'warn', output: 'Service state: Warming up', serviceId: 'demo' })
  t.same(schemaErrors(warming.body), [])
  t.equal((await get(`${address}/health/ready`)).status, 503, 'not ready while warming up')

  let working = warming
  for (let i = 0; i < 500 && working.status !== 200; i++) {
    await sleep(20)
    working = await get(`${address}/health`)
  }
  t.equal(working.status, 200, 'then working: 200')
  t.match(working.body, { status: 'pass', notes: ['Service is running'], checks: { 'demo-db:responseTime': [{ status: 'pass' }] } })
  t.same(schemaErrors(working.body), [])

  child.kill('SIGTERM')
  // The state changes at once; give the signal a moment to arrive.
  let ready = await get(`${address}/health/ready`)
  for (let i = 0; i < 50 && ready.status !== 503; i++) ready = await get(`${address}/health/ready`)
  t.equal(ready.status, 503, 'draining: not ready')
  t.match((await get(`${address}/`)).body, { hello: 'world', state: 'Shutting down' }, 'draining: still serving')

  const [code] = await exited
  t.equal(code, 0, 'exits 0 once closed')
  t.match(output, /"msg":"draining before close"/)
})
