// fastify-health-probe: asks a health endpoint over HTTP and answers with an exit code, for a
// Docker HEALTHCHECK in images that have Node.js but no curl or wget.
//
// Self-contained on purpose: it runs every few seconds in every container, so it loads nothing
// but Node's own http module (https only for an https URL) and nothing else of this package.

import type { ClientRequest, IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { parseArgs } from 'node:util'

export const DEFAULT_URL = 'http://127.0.0.1:8008/health'
export const DEFAULT_TIMEOUT = 2000
/** The most of a body the probe reads: a health document is a few hundred bytes. */
export const MAX_BODY = 64 * 1024
/** setTimeout's own limit; a longer timeout would fire at once. */
const MAX_TIMEOUT = 2_147_483_647

/** Exit codes: 0 healthy, 1 anything else. Docker reserves 2, so usage errors are 1 as well. */
export const EXIT_HEALTHY = 0
export const EXIT_UNHEALTHY = 1

export const USAGE = `Usage: fastify-health-probe [url] [--timeout <ms>] [--ready]

Asks a fastify-health endpoint and exits 0 when it is healthy, 1 otherwise.

  url             the health route (default ${DEFAULT_URL})
  --timeout <ms>  give up after this many milliseconds (default ${DEFAULT_TIMEOUT})
  --ready         ask the readiness route instead: the url's path with /ready appended
  -h, --help      print this help

Healthy: an HTTP answer in 200-399 whose JSON body has a status of pass or warn
(aliases ok/up for pass and error/down for fail, any case). One line says why,
on stdout when healthy and on stderr otherwise.
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
  /** Milliseconds for the whole exchange: connect, headers and body. Default 2000. */
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

/** Shortens what a server sent before it goes into the one line. */
function quote (value: string): string {
  return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
}

/** The output is one line whatever an error message holds. */
function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim() + '\n'
}

/** `url` as printed: Docker keeps the output in `docker inspect`, so a password is masked. */
function shown (url: URL): string {
  if (url.password === '') return url.href
  const masked = new URL(url.href)
  masked.password = '***'
  return masked.href
}

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
  if (statusCode < 200 || statusCode > 399) {
    return { healthy: false, message: `unhealthy: ${answered} with status ${said}` }
  }
  return { healthy: status !== 'fail', message: `${status === 'fail' ? 'unhealthy' : 'healthy'}: ${answered} with status ${said}` }
}

/** One GET of `url`; resolves with the verdict, never rejects. */
export async function probe (url: URL, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { timeout = DEFAULT_TIMEOUT, maxBody = MAX_BODY } = options
  const href = shown(url)
  // https costs a TLS load on every run: only pay it when the URL asks for it.
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest
  return await new Promise<ProbeResult>((resolve) => {
    let res: IncomingMessage | undefined
    let settled = false
    const finish = (result: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Settle once, then drop the connection: nothing more is read or waited for.
      resolve(result)
      res?.destroy()
      req.destroy()
    }
    const fail = (why: string): void => finish({ healthy: false, message: `unhealthy: ${href}: ${why}` })
    const timer = setTimeout(() => fail(`no complete answer within ${timeout} ms`), timeout)

    const req: ClientRequest = request(url, {
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

/** Reads the command line (without node and the script); never throws. */
export function parseCommandLine (args: string[]): Parsed {
  let values: { timeout?: string, ready?: boolean, help?: boolean }
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        timeout: { type: 'string' },
        ready: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      }
    }))
  } catch (error) {
    return { error: (error as Error).message }
  }
  if (values.help === true) return { help: true }
  if (positionals.length > 1) return { error: `expected at most one url, got ${positionals.length}` }

  let timeout = DEFAULT_TIMEOUT
  if (values.timeout !== undefined) {
    timeout = /^\d+$/.test(values.timeout) ? Number(values.timeout) : NaN
    if (!(timeout >= 1 && timeout <= MAX_TIMEOUT)) {
      return { error: `--timeout must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT}, got ${quote(values.timeout)}` }
    }
  }

  const given = positionals[0] ?? DEFAULT_URL
  const notUrl = { error: `expected an http:// or https:// URL, got ${quote(given)}` }
  let url: URL
  try {
    url = new URL(given)
  } catch {
    return notUrl
  }
  // "localhost:8008/health" parses, with "localhost:" as its scheme.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return notUrl
  return { help: false, url: values.ready === true ? readyUrl(url) : url, timeout }
}

/**
 * The command: `main(process.argv, process)` probes and returns the exit code, having written
 * one line to `io.stdout` (healthy) or `io.stderr` (anything else).
 */
export async function main (argv: string[], io: ProbeIO): Promise<number> {
  const parsed = parseCommandLine(argv.slice(2))
  if ('error' in parsed) {
    io.stderr.write(oneLine(`fastify-health-probe: ${parsed.error} (see --help)`))
    return EXIT_UNHEALTHY
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
}
