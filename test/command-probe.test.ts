import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import fastifyHealth from '../lib/index.js'
import { childEnv } from './helpers.js'
import {
  DEFAULT_TIMEOUT, DEFAULT_URL, USAGE, judge, main, parseCommandLine, probe, readyUrl
} from '../lib/command/probe.js'

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** main() as the bin calls it, with its two writers captured. */
async function run (...args: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: { write: (text: string) => { stdout += text } },
    stderr: { write: (text: string) => { stderr += text } }
  }
  const code = await main(['node', 'fastify-health-probe', ...args], io)
  return { code, stdout, stderr }
}

/** The output is exactly one line, on exactly one stream, as the spec asks. */
function assertOneLine (t: Test, result: Run, healthy: boolean): string {
  const [said, silent] = healthy ? [result.stdout, result.stderr] : [result.stderr, result.stdout]
  t.equal(result.code, healthy ? 0 : 1, 'exit code')
  t.equal(silent, '', 'nothing on the other stream')
  t.match(said, /^[^\n]+\n$/, 'one line')
  return said
}

/** Listens on a free loopback port, closed (with its open connections) when the test ends. */
async function listen (t: Test, server: Server | ReturnType<typeof createNetServer>): Promise<string> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A plain node:http server: not Fastify, not this plugin, just what a probe might meet. */
async function plain (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  return await listen(t, createServer(handler))
}

async function healthApp (t: Test): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify()
  await app.register(fastifyHealth, 'orders')
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { app, url: `${address}/health` }
}

test('against the plugin, in each state', async (t) => {
  const { app, url } = await healthApp(t)

  app.health.setStateWorking()
  t.equal(assertOneLine(t, await run(url), true), `healthy: ${url} answered 200 with status pass\n`)

  app.health.setStateWarmUp()
  t.equal(assertOneLine(t, await run(url), true), `healthy: ${url} answered 202 with status warn\n`,
    'warming up is warn: healthy for Docker')

  app.health.setStateShutDown()
  t.equal(assertOneLine(t, await run(url), true), `healthy: ${url} answered 202 with status warn\n`,
    'shutting down is warn as well')

  app.health.setStateNoInfo()
  t.equal(assertOneLine(t, await run(url), false), `unhealthy: ${url} answered 503 with status fail\n`)
})

test('what the body says decides, with the aliases of the draft', async (t) => {
  // GET /<code>/<status> answers that code with { status: <status> }, as application/json.
  const base = await plain(t, (req, res) => {
    const [, code, status] = (req.url as string).split('/')
    res.writeHead(Number(code), { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: decodeURIComponent(status) }))
  })

  t.equal(assertOneLine(t, await run(`${base}/200/fail`), false),
    `unhealthy: ${base}/200/fail answered 200 with status fail\n`, 'a 200 saying fail is unhealthy')
  t.equal(assertOneLine(t, await run(`${base}/200/ok`), true),
    `healthy: ${base}/200/ok answered 200 with status "ok" (pass)\n`)
  assertOneLine(t, await run(`${base}/200/UP`), true)
  assertOneLine(t, await run(`${base}/200/Warn`), true)
  t.equal(assertOneLine(t, await run(`${base}/200/DOWN`), false),
    `unhealthy: ${base}/200/DOWN answered 200 with status "DOWN" (fail)\n`)
  assertOneLine(t, await run(`${base}/200/error`), false)
  t.equal(assertOneLine(t, await run(`${base}/301/pass`), true),
    `healthy: ${base}/301/pass answered 301 with status pass\n`, '3xx counts as an answer; redirects are not followed')
  t.equal(assertOneLine(t, await run(`${base}/404/pass`), false),
    `unhealthy: ${base}/404/pass answered 404 with status pass\n`, '4xx is unhealthy whatever the body says')
  assertOneLine(t, await run(`${base}/500/up`), false)
  t.match(assertOneLine(t, await run(`${base}/200/maybe`), false), /with the unknown status "maybe", not a health document/)
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.match(assertOneLine(t, await run(`${base}/200/${name}`), false), `with the unknown status "${name}"`, name)
  }
  t.match(assertOneLine(t, await run(`${base}/200/${encodeURIComponent('pa\nss')}`), false), /"pa\\nss"/,
    'what the server sent cannot break the line')
})

test('a body that is not a health document is unhealthy', async (t) => {
  const bodies: Record<string, string> = {
    '/html': '<html>ok</html>',
    '/empty': '',
    '/object': '{"healthy":true}',
    '/number': '{"status":1}',
    '/array': '[{"status":"pass"}]',
    '/null': 'null',
    '/string': '"pass"'
  }
  const base = await plain(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json' })
    res.end(bodies[req.url as string])
  })
  t.match(assertOneLine(t, await run(`${base}/html`), false), /answered 200 with a body that is not JSON\n$/)
  t.match(assertOneLine(t, await run(`${base}/empty`), false), /answered 200 with a body that is not JSON\n$/)
  for (const path of ['/object', '/number', '/array', '/null', '/string']) {
    t.match(assertOneLine(t, await run(base + path), false), /answered 200 with no status, not a health document\n$/, path)
  }
})

test('a connection refused is unhealthy', async (t) => {
  // A port that was free a moment ago: listen, note it, close.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))

  const url = `http://127.0.0.1:${port}/health`
  t.equal(assertOneLine(t, await run(url), false), `unhealthy: ${url}: connection refused\n`)
})

test('a server that accepts and never answers times out', { timeout: 10_000 }, async (t) => {
  const base = await listen(t, createNetServer(() => {}))
  t.equal(assertOneLine(t, await run(`${base}/health`, '--timeout', '200'), false),
    `unhealthy: ${base}/health: no complete answer within 200 ms\n`)
})

test('the timeout covers the body as well as the headers', { timeout: 10_000 }, async (t) => {
  const base = await plain(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json', 'content-length': '100' })
    res.write('{"status":')
  })
  t.equal(assertOneLine(t, await run(`${base}/health`, '--timeout=200'), false),
    `unhealthy: ${base}/health: no complete answer within 200 ms\n`)
})

test('a connection dropped before or during the answer is unhealthy', async (t) => {
  const reset = await listen(t, createNetServer((socket) => socket.destroy()))
  t.equal(assertOneLine(t, await run(`${reset}/health`), false), `unhealthy: ${reset}/health: connection reset\n`)

  const cut = await plain(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json', 'content-length': '100' })
    res.write('{"status":', () => req.socket.destroy())
  })
  t.match(assertOneLine(t, await run(`${cut}/health`), false), /^unhealthy: http:\S+: answer cut off \(.+\)\n$/)
})

test('a huge body is refused without being read whole', { timeout: 20_000 }, async (t) => {
  let written = 0
  const endless = await plain(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json' })
    const chunk = Buffer.alloc(16 * 1024, ' ')
    // Writes until the probe hangs up: a probe that buffered everything would never return.
    const more = (): void => {
      while (!res.destroyed) {
        written += chunk.length
        if (!res.write(chunk)) {
          res.once('drain', more)
          return
        }
      }
    }
    res.write('{"status":"pass",')
    more()
  })
  t.equal(assertOneLine(t, await run(`${endless}/health`, '--timeout', '10000'), false),
    `unhealthy: ${endless}/health: answered 200 with a body over the 65536 byte limit\n`)
  t.ok(written > 65536, 'the server offered more than the limit')

  const declared = await plain(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json', 'content-length': String(10 * 1024 * 1024) })
    res.write('{"status":"pass"')
  })
  t.equal(assertOneLine(t, await run(`${declared}/health`), false),
    `unhealthy: ${declared}/health: answered 200 with a body of 10485760 bytes, over the 65536 byte limit\n`,
    'a Content-Length over the limit fails before any body is read')

  // The limit is an option of probe(): a 17-byte document over a 16-byte limit.
  const small = await plain(t, (_req, res) => res.end('{"status":"pass"}'))
  t.same(await probe(new URL(small), { maxBody: 16 }), {
    healthy: false, message: `unhealthy: ${small}/: answered 200 with a body of 17 bytes, over the 16 byte limit`
  })
  t.same(await probe(new URL(small), { maxBody: 17 }), {
    healthy: true, message: `healthy: ${small}/ answered 200 with status pass`
  })
})

test('an https URL uses TLS', async (t) => {
  // A plain HTTP server cannot speak TLS: the handshake fails, which proves https was used.
  const base = await plain(t, (_req, res) => res.end('{"status":"pass"}'))
  const url = base.replace('http:', 'https:') + '/health'
  t.match(assertOneLine(t, await run(url), false), new RegExp(`^unhealthy: ${url}: .+\n$`))
})

test('a password in the URL is sent, and masked in the output', async (t) => {
  const base = await plain(t, (req, res) => {
    const ok = req.headers.authorization === `Basic ${Buffer.from('probe:s3cret').toString('base64')}`
    res.writeHead(ok ? 200 : 401).end(`{"status":"${ok ? 'pass' : 'fail'}"}`)
  })
  const url = base.replace('http://', 'http://probe:s3cret@') + '/health'
  t.equal(assertOneLine(t, await run(url), true),
    `healthy: ${base.replace('http://', 'http://probe:***@')}/health answered 200 with status pass\n`)
})

test('--ready appends /ready to the path', async (t) => {
  const seen: string[] = []
  const base = await plain(t, (req, res) => {
    seen.push(req.url as string)
    res.end('{"status":"pass"}')
  })
  assertOneLine(t, await run(`${base}/health`, '--ready'), true)
  assertOneLine(t, await run('--ready', `${base}/health/`), true)
  assertOneLine(t, await run(`${base}/`, '--ready'), true)
  assertOneLine(t, await run(base, '--ready'), true)
  assertOneLine(t, await run(`${base}/admin/health?verbose=1`, '--ready'), true)
  t.same(seen, ['/health/ready', '/health/ready', '/ready', '/ready', '/admin/health/ready?verbose=1'])
  t.equal(readyUrl(new URL('http://127.0.0.1:8008/health//')).href, 'http://127.0.0.1:8008/health/ready')
})

test('--ready against the plugin\'s readiness route', async (t) => {
  const { app, url } = await healthApp(t)
  app.health.setStateWorking()
  t.equal(assertOneLine(t, await run(url, '--ready'), true), `healthy: ${url}/ready answered 200 with status pass\n`)
  app.health.setStateWarmUp()
  t.equal(assertOneLine(t, await run(url, '--ready'), false), `unhealthy: ${url}/ready answered 503 with status fail\n`,
    'warming up is healthy for /health (warn) but not ready')
})

test('command line', async (t) => {
  t.same(parseCommandLine([]), { help: false, url: new URL(DEFAULT_URL), timeout: DEFAULT_TIMEOUT }, 'defaults')
  t.same(parseCommandLine(['--timeout', '150', 'http://127.0.0.1:1/x']),
    { help: false, url: new URL('http://127.0.0.1:1/x'), timeout: 150 })
  t.same(parseCommandLine(['--ready']), { help: false, url: new URL(`${DEFAULT_URL}/ready`), timeout: DEFAULT_TIMEOUT })

  for (const flag of ['--help', '-h']) {
    t.same(await run(flag), { code: 0, stdout: USAGE, stderr: '' }, flag)
  }
  t.same(await run('http://127.0.0.1:1/x', '--help'), { code: 0, stdout: USAGE, stderr: '' }, '--help wins')

  const usage: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--timeout'], /argument missing/],
    [['--timeout', '-5'], /ambiguous/],
    [['--timeout', '0'], /--timeout must be a whole number of milliseconds from 1 to 2147483647, got "0"/],
    [['--timeout', '1.5'], /got "1.5"/],
    [['--timeout', 'soon'], /got "soon"/],
    [['--timeout', '2147483648'], /got "2147483648"/],
    [['--ready=yes'], /does not take an argument/],
    [['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'], /expected at most one url, got 2/],
    [['127.0.0.1:8008/health'], /expected an http:\/\/ or https:\/\/ URL, got "127.0.0.1:8008\/health"/],
    [['localhost:8008/health'], /expected an http:\/\/ or https:\/\/ URL, got "localhost:8008\/health"/],
    [['not a url'], /expected an http:\/\/ or https:\/\/ URL, got "not a url"/],
    [['ftp://127.0.0.1/health'], /expected an http:\/\/ or https:\/\/ URL/]
  ]
  for (const [args, why] of usage) {
    const said = assertOneLine(t, await run(...args), false)
    t.match(said, /^fastify-health-probe: .+ \(see --help\)\n$/, args.join(' '))
    t.match(said, why, args.join(' '))
  }
})

test('judge, on codes a server cannot send through node:http', async (t) => {
  t.same(judge('x', 199, Buffer.from('{"status":"pass"}')),
    { healthy: false, message: 'unhealthy: x answered 199 with status pass' })
  t.same(judge('x', 200, Buffer.from('{"status":"' + 'p'.repeat(50) + '"}')),
    { healthy: false, message: `unhealthy: x answered 200 with the unknown status "${'p'.repeat(40)}…", not a health document` },
    'long values are cut short')
})

// The real command, as Docker runs it. It needs the build (`npm run build`, which CI runs
// before tap); without it, the in-process tests above still cover every line of lib/probe.ts.
const bin = fileURLToPath(new URL('../bin/fastify-health-probe.js', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/cjs/command/probe.js', import.meta.url)))

async function spawnProbe (...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const code = await new Promise<number>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

test('bin/fastify-health-probe.js end to end', { skip: built ? false : 'dist/cjs/command/probe.js not built' }, async (t) => {
  const { app, url } = await healthApp(t)
  app.health.setStateWorking()
  t.equal(assertOneLine(t, await spawnProbe(url), true), `healthy: ${url} answered 200 with status pass\n`)

  app.health.setStateNoInfo()
  t.equal(assertOneLine(t, await spawnProbe(url, '--timeout', '1000'), false),
    `unhealthy: ${url} answered 503 with status fail\n`)

  // Nothing left open keeps the process alive once it has timed out.
  const hanging = await listen(t, createNetServer(() => {}))
  t.equal(assertOneLine(t, await spawnProbe(`${hanging}/health`, '--ready', '--timeout', '200'), false),
    `unhealthy: ${hanging}/health/ready: no complete answer within 200 ms\n`)

  t.match(assertOneLine(t, await spawnProbe('--bogus'), false), /^fastify-health-probe: Unknown option '--bogus'/)
  t.same(await spawnProbe('--help'), { code: 0, stdout: USAGE, stderr: '' })
})
