import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { test, type Test } from 'tap'
import fastifyHealth, { State } from '../lib/index.js'
import { childEnv } from './helpers.js'

// Dozens of spawned probes (each a fresh Node.js process): on a loaded 2-core machine this file
// needs more than the suite's 60 s.
t.setTimeout(240_000)
import { bundle, createPki, fromNow } from './servers/certificates.js'
import { scratchDir } from './servers/common.js'
import {
  EXIT_USAGE, USAGE, defaults, judge, main, parseCommandLine, probe, readyUrl
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
  t.equal(assertOneLine(t, await run(url), false), `unhealthy: ${url} answered 503 with status fail: Service state: No information\n`,
    'with the answer\'s output')
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
    `healthy: ${base.replace('http://', 'http://***@')}/health answered 200 with status pass\n`, 'user and password masked')
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
  t.equal(assertOneLine(t, await run(url, '--ready'), false), `unhealthy: ${url}/ready answered 503 with status fail: Service state: Warming up\n`,
    'warming up is healthy for /health (warn) but not ready')
})

test('command line', async (t) => {
  t.same(parseCommandLine([]), { help: false, url: new URL(defaults.url), timeout: defaults.timeout }, 'defaults')
  t.same(parseCommandLine(['--timeout', '150', 'http://127.0.0.1:1/x']),
    { help: false, url: new URL('http://127.0.0.1:1/x'), timeout: 150 })
  t.same(parseCommandLine(['--ready']), { help: false, url: new URL(`${defaults.url}/ready`), timeout: defaults.timeout })
  t.same(parseCommandLine(['--timeout=9', '--timeout', '10', '--', '--ready']),
    { error: 'expected an http:// or https:// URL, got "--ready"' }, 'after --, a word is the url; the last --timeout counts')
  t.same(parseCommandLine(['--timeout=9', '--timeout', '10']), { help: false, url: new URL(defaults.url), timeout: 10 })

  for (const flag of ['--help', '-h']) {
    t.same(await run(flag), { code: 0, stdout: USAGE, stderr: '' }, flag)
  }
  t.same(await run('http://127.0.0.1:1/x', '--help'), { code: 0, stdout: USAGE, stderr: '' }, '--help wins')

  const usage: Array<[string[], RegExp]> = [
    [['--bogus'], /^fastify-health-probe: unknown option "--bogus" \(see --help\)\n$/],
    [['-x'], /unknown option "-x"/],
    [['--password=hunter2'], /unknown option "--password"/],
    [['--timeout'], /--timeout needs a number of milliseconds, as in --timeout 3000/],
    [['--timeout', '-5'], /got "-5"/],
    [['--help=yes'], /--help takes no value/],
    [['--timeout', '0'], /--timeout must be a whole number of milliseconds from 1 to 2147483647, got "0"/],
    [['--timeout', '1.5'], /got "1.5"/],
    [['--timeout', 'soon'], /got "soon"/],
    [['--timeout', '2147483648'], /got "2147483648"/],
    [['--ready=yes'], /--ready takes no value/],
    [['ftp://orders:hunter2@127.0.0.1/health'], /got "ftp:\/\/\*\*\*@127.0.0.1\/health"/],
    [['http://user:%zz@127.0.0.1/health'], /^fastify-health-probe: the user name or password in the URL is not valid percent-encoding \(write % as %25\) \(see --help\)\n$/],
    [['http://%E0%A4%A@127.0.0.1/health'], /not valid percent-encoding/],
    [['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'], /expected at most one url, got 2/],
    [['127.0.0.1:8008/health'], /expected an http:\/\/ or https:\/\/ URL, got "127.0.0.1:8008\/health"/],
    [['localhost:8008/health'], /expected an http:\/\/ or https:\/\/ URL, got "localhost:8008\/health"/],
    [['not a url'], /expected an http:\/\/ or https:\/\/ URL, got "not a url"/],
    [['ftp://127.0.0.1/health'], /expected an http:\/\/ or https:\/\/ URL/]
  ]
  for (const [args, why] of usage) {
    const result = await run(...args)
    t.equal(result.code, EXIT_USAGE, 'the usage exit code')
    const said = assertOneLine(t, result, false)
    t.match(said, /^fastify-health-probe: .+ \(see --help\)\n$/, args.join(' '))
    t.match(said, why, args.join(' '))
    t.notMatch(said, /hunter2|%zz|user:/, 'no credential shown')
    t.equal((said.match(/"/g) ?? []).length % 2, 0, 'quotes balanced')
  }
})

test('a URL whose credentials node:http cannot decode: one line from probe() too, never a throw', async (t) => {
  const result = await probe(new URL('http://user:%zz@127.0.0.1:1/health'))
  t.same(result, { healthy: false, message: 'unhealthy: http://***@127.0.0.1:1/health: cannot send the request (URI malformed)' })
})

test('main() never rejects: a writer that throws gives one line on the other', async (t) => {
  let stderr = ''
  const io = {
    stdout: { write: () => { throw new Error('EPIPE: the reader\nwent away') } },
    stderr: { write: (text: string) => { stderr += text } }
  }
  t.equal(await main(['node', 'fastify-health-probe', '--help'], io), 1)
  t.equal(stderr, 'fastify-health-probe: EPIPE: the reader went away\n')
  stderr = ''
  io.stdout.write = () => { throw 'a string' } // eslint-disable-line no-throw-literal
  t.equal(await main(['node', 'fastify-health-probe', '-h'], io), 1)
  t.equal(stderr, 'fastify-health-probe: a string\n')
})

test('an unhealthy line carries the answer\'s output: one line, redacted, bounded', async (t) => {
  const outputs: Record<string, unknown> = {
    '/down': 'db: fail (connect ECONNREFUSED postgres://orders:hunter2@db:5432)\n  at Socket.x (/app/a.js:1:1)',
    '/long': 'x'.repeat(1000),
    '/blank': '  ',
    '/number': 42
  }
  const base = await plain(t, (req, res) => {
    res.writeHead(503, { 'content-type': 'application/health+json' }).end(JSON.stringify({ status: 'fail', output: outputs[req.url as string] }))
  })
  t.equal(assertOneLine(t, await run(`${base}/down`), false),
    `unhealthy: ${base}/down answered 503 with status fail: db: fail (connect ECONNREFUSED postgres://***@db:5432) at Socket.x (/app/a.js:1:1)\n`)
  t.equal(assertOneLine(t, await run(`${base}/long`), false),
    `unhealthy: ${base}/long answered 503 with status fail: ${'x'.repeat(defaults.maxOutput)}…\n`)
  t.equal(assertOneLine(t, await run(`${base}/blank`), false), `unhealthy: ${base}/blank answered 503 with status fail\n`)
  t.equal(assertOneLine(t, await run(`${base}/number`), false), `unhealthy: ${base}/number answered 503 with status fail\n`)
  t.same(judge('x', 200, Buffer.from('{"status":"warn","output":"slow"}')), { healthy: true, message: 'healthy: x answered 200 with status warn' },
    'a healthy line stays short')
})

test('the default deadline outlasts a check\'s default timeout: a hang gives the 503 and its reason', { timeout: 20_000 }, async (t) => {
  const app = Fastify()
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK })
  // A check that never settles: the plugin answers at its default check timeout.
  app.health.addCheck('db', () => new Promise(() => {}))
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const said = assertOneLine(t, await run(`${address}/health`), false)
  t.match(said, new RegExp(`^unhealthy: ${address}/health answered 503 with status fail: \\S.*\n$`), 'the answer and its output, no probe timeout')
  t.ok(defaults.timeout > 2000, 'longer than the check timeout')
})

// Random command lines: whatever they hold, main() writes one line (or the usage), never a stack.
// Any URL they give points at a closed loopback port, so every run is over at once.
test('random command lines: one line, never a stack', { timeout: 60_000 }, async (t) => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise((resolve) => closed.close(resolve))
  const word = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('--timeout', '--ready', '--help', '-h', '--', '-', '--timeout=', '--timeout=0', '--bogus', '-hx', '--=', '"', "'", '%zz', ''),
    fc.tuple(fc.constantFrom('http', 'https', 'ftp', 'HTTP'), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.string({ maxLength: 6 }))
      .map(([scheme, user, password, path]) => `${scheme}://${user}:${password}@127.0.0.1:${port}/${path}`),
    fc.integer({ min: -5, max: 100 }).map(String)
  )
  await fc.assert(fc.asyncProperty(fc.array(word, { maxLength: 5 }), async (args) => {
    const parsed = parseCommandLine(args)
    // Only loopback: a URL elsewhere (a random word that happens to parse) is not asked.
    fc.pre(!('url' in parsed) || parsed.url.hostname === '127.0.0.1')
    const result = await run(...args)
    const said = result.stdout + result.stderr
    if (said.includes('    at ') || / at .+:\d+:\d+/.test(said)) throw new Error(`a stack for ${JSON.stringify(args)}: ${said}`)
    if (result.stdout !== USAGE && !/^[^\n]+\n$/.test(said)) throw new Error(`not one line for ${JSON.stringify(args)}: ${JSON.stringify(said)}`)
    if (result.code !== 0 && result.code !== 1) throw new Error(`exit code ${result.code}`)
  }), { numRuns: 150 })
  t.pass('150 command lines')
})

test('judge, on codes a server cannot send through node:http', async (t) => {
  t.same(judge('x', 199, Buffer.from('{"status":"pass"}')),
    { healthy: false, message: 'unhealthy: x answered 199 with status pass' })
  t.same(judge('x', 200, Buffer.from('{"status":"' + 'p'.repeat(50) + '"}')),
    { healthy: false, message: `unhealthy: x answered 200 with the unknown status "${'p'.repeat(40)}…", not a health document` },
    'long values are cut short')
})

// The real command, as Docker runs it, from the build: built here when dist/ is missing or
// older than the command's sources (never skipped).
const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'bin', 'fastify-health-probe.js')
const builtProbe = join(root, 'dist', 'cjs', 'command', 'probe.js')
const sources = ['lib/command/probe.ts', 'lib/redact.ts'].map((file) => join(root, file))
const stale = (): boolean => !existsSync(builtProbe) || sources.some((source) => statSync(source).mtimeMs > statSync(builtProbe).mtimeMs)
if (stale()) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'ignore' })

async function spawnProbe (args: string[], env: Record<string, string> = {}, node: string[] = [], script = bin): Promise<Run> {
  const child = spawn(process.execPath, [...node, script, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const code = await new Promise<number>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

test('bin/fastify-health-probe.js end to end', async (t) => {
  t.notOk(stale(), 'the build is there and current')
  const { app, url } = await healthApp(t)
  app.health.setStateWorking()
  t.equal(assertOneLine(t, await spawnProbe([url]), true), `healthy: ${url} answered 200 with status pass\n`)

  app.health.setStateNoInfo()
  t.match(assertOneLine(t, await spawnProbe([url, '--timeout', '1000']), false),
    new RegExp(`^unhealthy: ${url} answered 503 with status fail`))

  // Nothing left open keeps the process alive once it has timed out.
  const hanging = await listen(t, createNetServer(() => {}))
  t.equal(assertOneLine(t, await spawnProbe([`${hanging}/health`, '--ready', '--timeout', '200']), false),
    `unhealthy: ${hanging}/health/ready: no complete answer within 200 ms\n`)

  t.equal(assertOneLine(t, await spawnProbe(['--bogus']), false), 'fastify-health-probe: unknown option "--bogus" (see --help)\n')
  t.same(await spawnProbe(['--help']), { code: 0, stdout: USAGE, stderr: '' })
})

test('the command never prints a stack, whatever it is given (a few spawned runs)', async (t) => {
  const cases = [
    ['http://user:%zz@127.0.0.1/health'], ['--timeout'], ['--timeout', 'x', '--ready=1'], ['"unbalanced'], ['http://[::1'],
    ['https://u:%@127.0.0.1:1/'], ['a', 'b', 'c']
  ]
  for (const args of cases) {
    const said = assertOneLine(t, await spawnProbe(args), false)
    t.notMatch(said, /\n {4}at |URIError|node:internal/, `no stack: ${args.join(' ')}`)
  }

  // A copy of the bin with no build beside it: one line that says so.
  const scratch = await scratchDir('probe-unbuilt-')
  t.teardown(() => scratch.remove())
  const copy = join(scratch.path, 'bin', 'fastify-health-probe.js')
  mkdirSync(dirname(copy))
  copyFileSync(bin, copy)
  t.equal(assertOneLine(t, await spawnProbe([], {}, [], copy), false), 'fastify-health-probe: cannot load the command (MODULE_NOT_FOUND); is the package built?\n')
})

test('the command loads neither Fastify nor the plugin: only its own file and the redaction pass', async (t) => {
  const scratch = await scratchDir('probe-loads-')
  t.teardown(() => scratch.remove())
  const hook = join(scratch.path, 'record-loads.cjs')
  const record = join(scratch.path, 'loaded.json')
  // Preloaded with --require: every require() request, and every module in the CommonJS cache, at exit.
  writeFileSync(hook, [
    "'use strict'",
    "const Module = require('node:module')",
    "const { writeFileSync } = require('node:fs')",
    'const requested = []',
    'const load = Module._load',
    'Module._load = function (request, parent, ...rest) {',
    `  if (parent?.filename?.startsWith(${JSON.stringify(root)}) && !parent.filename.includes('node_modules')) requested.push(request)`,
    '  return load.call(this, request, parent, ...rest)',
    '}',
    `process.on('exit', () => writeFileSync(${JSON.stringify(record)}, JSON.stringify({ requested, cached: Object.keys(require.cache) })))`,
    ''
  ].join('\n'))
  const { app, url } = await healthApp(t)
  app.health.setStateWorking()
  assertOneLine(t, await spawnProbe([url], {}, ['--require', hook]), true)
  const { requested, cached } = JSON.parse(readFileSync(record, 'utf8')) as { requested: string[], cached: string[] }
  // tap preloads its own coverage hooks into every child (node_modules/@tapjs, pirates...): left aside.
  const ours = cached.filter((file) => file.startsWith(root) && !file.includes('/node_modules/'))
  t.same(ours.map((file) => file.slice(root.length)).sort(), ['dist/cjs/command/probe.js', 'dist/cjs/redact.js'],
    'of this package: only the command and the redaction pass')
  t.same([...new Set(requested)].sort(), ['../dist/cjs/command/probe.js', '../redact.js', 'node:http', 'node:util'],
    'what the bin and they require: the command, the redaction pass, Node\'s http and util')
  t.notOk(cached.some((file) => /node_modules\/(@fastify|fastify|avvio|find-my-way|pino|light-my-request)\//.test(file)), 'no Fastify in the process')
})

test('a healthy answer over HTTPS, the certificate checked against a trusted root', { timeout: 60_000 }, async (t) => {
  const scratch = await scratchDir('probe-https-')
  t.teardown(() => scratch.remove())
  const pki = await createPki(scratch.path)
  const leaf = await pki.leaf('localhost', fromNow(-1), fromNow(30))
  const server = createHttpsServer({ key: leaf.key, cert: bundle(leaf, pki.intermediate) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/health+json' }).end('{"status":"pass"}')
  })
  const base = (await listen(t, server)).replace('http:', 'https:')
  const url = `${base}/health`
  const rootFile = join(scratch.path, 'root.pem')
  writeFileSync(rootFile, pki.root.cert)
  t.equal(assertOneLine(t, await spawnProbe([url], { NODE_EXTRA_CA_CERTS: rootFile }), true), `healthy: ${url} answered 200 with status pass\n`)
  t.match(assertOneLine(t, await spawnProbe([url]), false), new RegExp(`^unhealthy: ${url}: .*certificate`), 'an untrusted root fails')
})
