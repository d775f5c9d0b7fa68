// fastify-health-probe: asks a health endpoint over HTTP and answers with an exit code, for a
// Docker HEALTHCHECK in images that have Node.js but no curl or wget.
//
// Self-contained on purpose: it runs every few seconds in every container, so it loads Node's
// own http module (https only for an https URL) and, of this package, only the redaction pass
// (lib/redact.ts, which loads nothing): never Fastify, never the plugin.
// It never throws and never prints a stack, whatever its arguments: one line says what is wrong.

import type { ClientRequest, IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { parseArgs } from 'node:util'
import { redact } from '../redact.js'

export const defaults = {
  url: 'http://127.0.0.1:8008/health',
  /**
   * The deadline for the whole exchange. Longer than a check's default timeout (2000 ms), so that
   * during a hang the probe gets the 503 and its reason, not a timeout of its own.
   */
  timeout: 3000,
  /** The most of a body the probe reads: a health document is a few hundred bytes. */
  maxBody: 64 * 1024,
  /** The most of the answer's `output` an unhealthy line carries. */
  maxOutput: 300,
  /** setTimeout's own limit; a longer timeout would fire at once. */
  maxTimeout: 2_147_483_647
} as const

/**
 * Exit codes: 0 healthy, 1 anything else. Docker reserves 2, so usage and configuration errors
 * (bad arguments, a bad URL) are 1 as well.
 */
const EXIT_HEALTHY = 0
const EXIT_UNHEALTHY = 1
export const EXIT_USAGE = 1

export const USAGE = `Usage: fastify-health-probe [url] [--timeout <ms>] [--ready]

Asks a fastify-health endpoint and exits 0 when it is healthy, 1 otherwise.

  url             the health route (default ${defaults.url})
  --timeout <ms>  give up after this many milliseconds (default ${defaults.timeout})
  --ready         ask the readiness route instead: the url's path with /ready appended
  -h, --help      print this help

Healthy: an HTTP answer in 200-399 whose JSON body has a status of pass or warn
(aliases ok/up for pass and error/down for fail, any case). One line says why,
on stdout when healthy and on stderr otherwise; an unhealthy answer's line
ends with its output.
`

/** Where main() writes its one line: `process`, or anything with the same two writers. */
export interface ProbeIO {
  stdout: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown }
}

export interface ProbeResult {
  healthy: boolean
  /** One line, without a newline, saying why. */
  message: string
}

export interface ProbeOptions {
  /** Milliseconds for the whole exchange: connect, headers and body. Default 3000. */
  timeout?: number
  /** The most bytes of body read; a longer body fails. Default 64 KiB. */
  maxBody?: number
}

/**
 * The status values of draft-inadarei-api-health-check-06, with the aliases it accepts. A Map,
 * so that a status of "constructor" or "__proto__" finds nothing.
 */
const statusAliases: ReadonlyMap<string, 'pass' | 'warn' | 'fail'> = new Map([
  ['pass', 'pass'], ['ok', 'pass'], ['up', 'pass'],
  ['warn', 'warn'],
  ['fail', 'fail'], ['error', 'fail'], ['down', 'fail']
])

const errorNames: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset'
}

/** `text` cut to `max` characters, with … when cut. */
const bounded = (text: string, max: number): string => text.length > max ? text.slice(0, max) + '…' : text

/** What a server or a user sent, redacted (before it is cut, so no half secret survives), short, quoted. */
function quote (value: string): string {
  return JSON.stringify(bounded(redact(value), 40))
}

/** The output is one line whatever an error message holds, with no credential in it. */
function oneLine (text: string): string {
  return redact(text.replace(/\s+/g, ' ').trim()) + '\n'
}

/** The message of anything thrown, never its stack. */
const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

/** `url` as printed: Docker keeps the output in `docker inspect`, so its credentials are masked. */
const shown = (url: URL): string => redact(url.href)

/** `url` with `/ready` appended to its path: /health and /health/ both give /health/ready. */
export function readyUrl (url: URL): URL {
  const ready = new URL(url.href)
  ready.pathname = ready.pathname.replace(/\/+$/, '') + '/ready'
  return ready
}

/** Judges one HTTP answer: the code must be in 200-399 and the body a health document saying pass or warn. */
export function judge (url: string, statusCode: number, body: Buffer): ProbeResult {
  const answered = `${url} answered ${statusCode}`
  let document: unknown
  try {
    document = JSON.parse(body.toString('utf8'))
  } catch {
    return { healthy: false, message: `unhealthy: ${answered} with a body that is not JSON` }
  }
  const raw = typeof document === 'object' && document !== null && !Array.isArray(document)
    ? (document as Record<string, unknown>).status
    : undefined
  const status = typeof raw === 'string' ? statusAliases.get(raw.toLowerCase()) : undefined
  if (status === undefined) {
    const got = typeof raw === 'string' ? `the unknown status ${quote(raw)}` : 'no status'
    return { healthy: false, message: `unhealthy: ${answered} with ${got}, not a health document` }
  }
  const said = raw === status ? status : `${quote(raw as string)} (${status})`
  const healthy = status !== 'fail' && statusCode >= 200 && statusCode <= 399
  if (healthy) return { healthy, message: `healthy: ${answered} with status ${said}` }
  // `docker inspect` shows this line: the answer's own reason, redacted, on the same line.
  const output = (document as Record<string, unknown>).output
  const reason = typeof output === 'string' && output.trim() !== ''
    ? `: ${bounded(redact(output.replace(/\s+/g, ' ').trim()), defaults.maxOutput)}`
    : ''
  return { healthy, message: `unhealthy: ${answered} with status ${said}${reason}` }
}

/** One GET of `url`; resolves with the verdict, never rejects. */
export async function probe (url: URL, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { timeout = defaults.timeout, maxBody = defaults.maxBody } = options
  const href = shown(url)
  // https costs a TLS load on every run: only pay it when the URL asks for it.
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest
  return await new Promise<ProbeResult>((resolve) => {
    let req: ClientRequest | undefined
    let res: IncomingMessage | undefined
    let settled = false
    const finish = (result: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Settle once, then drop the connection: nothing more is read or waited for.
      resolve(result)
      res?.destroy()
      req?.destroy()
    }
    const fail = (why: string): void => finish({ healthy: false, message: `unhealthy: ${href}: ${why}` })
    const timer = setTimeout(() => fail(`no complete answer within ${timeout} ms`), timeout)

    try {
      req = request(url, {
        method: 'GET',
        agent: false,
        headers: {
          accept: 'application/health+json, application/json;q=0.9',
          'user-agent': 'fastify-health-probe'
        }
      }, (response) => {
        res = response
        const statusCode = response.statusCode as number
        const declared = Number(response.headers['content-length'])
        if (declared > maxBody) {
          fail(`answered ${statusCode} with a body of ${declared} bytes, over the ${maxBody} byte limit`)
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBody) {
            fail(`answered ${statusCode} with a body over the ${maxBody} byte limit`)
            return
          }
          chunks.push(chunk)
        })
        response.on('end', () => finish(judge(href, statusCode, Buffer.concat(chunks))))
        response.on('error', (error: NodeJS.ErrnoException) => fail(`answer cut off (${error.message})`))
      })
    } catch (error) {
      // node:http refuses some URLs only when sending: credentials that are not valid percent-encoding.
      fail(`cannot send the request (${messageOf(error)})`)
      return
    }
    req.on('error', (error: NodeJS.ErrnoException) => {
      fail(errorNames[error.code as string] ?? error.message)
    })
    req.end()
  })
}

type Parsed =
  | { help: true }
  | { help: false, url: URL, timeout: number }
  | { error: string }

const OPTIONS = {
  timeout: { type: 'string' },
  ready: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

/** Whether node:http can decode the URL's user name and password for Basic auth. */
function decodableCredentials (url: URL): boolean {
  try {
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
    return true
  } catch {
    return false
  }
}

/**
 * Reads the command line (without node and the script); never throws. parseArgs is not strict
 * here: its own messages quote in a way of their own, ours say what to do in one plain line.
 */
export function parseCommandLine (args: string[]): Parsed {
  const { tokens } = parseArgs({ args, allowPositionals: true, strict: false, tokens: true, options: OPTIONS })
  const positionals: string[] = []
  let timeoutGiven: string | undefined
  let ready = false
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value)
    } else if (token.kind === 'option') {
      const { name, rawName, value } = token
      if (name === 'help') {
        if (value !== undefined) return { error: `${rawName} takes no value` }
        return { help: true }
      }
      if (name === 'ready') {
        if (value !== undefined) return { error: `${rawName} takes no value` }
        ready = true
      } else if (name === 'timeout') {
        if (value === undefined) return { error: '--timeout needs a number of milliseconds, as in --timeout 3000' }
        timeoutGiven = value
      } else {
        return { error: `unknown option ${quote(rawName)}` }
      }
    }
  }
  if (positionals.length > 1) return { error: `expected at most one url, got ${positionals.length}` }

  let timeout: number = defaults.timeout
  if (timeoutGiven !== undefined) {
    timeout = /^\d+$/.test(timeoutGiven) ? Number(timeoutGiven) : NaN
    if (!(timeout >= 1 && timeout <= defaults.maxTimeout)) {
      return { error: `--timeout must be a whole number of milliseconds from 1 to ${defaults.maxTimeout}, got ${quote(timeoutGiven)}` }
    }
  }

  const given = positionals[0] ?? defaults.url
  const notUrl = { error: `expected an http:// or https:// URL, got ${quote(given)}` }
  if (!URL.canParse(given)) return notUrl
  const url = new URL(given)
  // "localhost:8008/health" parses, with "localhost:" as its scheme.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return notUrl
  // The URL is not quoted: it holds the credentials that are wrong.
  if (!decodableCredentials(url)) return { error: 'the user name or password in the URL is not valid percent-encoding (write % as %25)' }
  return { help: false, url: ready ? readyUrl(url) : url, timeout }
}

/**
 * The command: `main(process.argv, process)` probes and returns the exit code, having written
 * one line to `io.stdout` (healthy) or `io.stderr` (anything else). Never rejects: whatever
 * goes wrong is one line, without a stack.
 */
export async function main (argv: string[], io: ProbeIO): Promise<number> {
  try {
    const parsed = parseCommandLine(argv.slice(2))
    if ('error' in parsed) {
      io.stderr.write(oneLine(`fastify-health-probe: ${parsed.error} (see --help)`))
      return EXIT_USAGE
    }
    if (parsed.help) {
      io.stdout.write(USAGE)
      return EXIT_HEALTHY
    }
    const result = await probe(parsed.url, { timeout: parsed.timeout })
    if (result.healthy) {
      io.stdout.write(oneLine(result.message))
      return EXIT_HEALTHY
    }
    io.stderr.write(oneLine(result.message))
    return EXIT_UNHEALTHY
  } catch (error) {
    io.stderr.write(oneLine(`fastify-health-probe: ${messageOf(error)}`))
    return EXIT_UNHEALTHY
  }
}
