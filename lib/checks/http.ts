// httpCheck: one request to an HTTP(S) endpoint, judged by its status code, an optional
// predicate and, when the upstream speaks application/health+json, the upstream's own status.
// node:http with `agent: false` rather than fetch: every socket is this run's own and is
// destroyed when the run settles or aborts (undici's global pool would keep it).
import { request as httpRequest, type IncomingMessage, validateHeaderName, validateHeaderValue } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { performance } from 'node:perf_hooks'
import { describeThrown, truncate } from '../engine/normalize.js'
import type { ComponentDetail } from '../engine/types.js'
import { FST_HEALTH_INVALID_CHECK_TARGET } from '../errors.js'
import { Status, worstStatus } from '../states.js'
import { redact } from '../redact.js'
import { checkOptions, failedReading, invalidOption, invalidTarget, oneLine, type ResponseTimeOptions, timedReading } from './common.js'
import { type ReadyMadeCheck, readyMade } from './ready-made.js'

/** The status codes that count as healthy: one, a list, or an inclusive range. */
export type ExpectedStatus = number | number[] | { min: number, max: number }

/** What an `accept` predicate is shown of the answer. */
export interface HttpCheckAnswer {
  status: number
  /** Header names in lower case, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>
  /** The body as UTF-8 text, at most `maxBodyBytes` of it. */
  body: string
  /** The body was longer than `maxBodyBytes` and was cut there. */
  truncated: boolean
}

export interface HttpCheckOptions extends ResponseTimeOptions {
  /**
   * The request's method.
   * @default 'GET'
   */
  method?: 'GET' | 'HEAD'
  /**
   * Request headers. After a redirect to another origin only accept, accept-language and
   * user-agent are sent on: any other may hold a credential.
   */
  headers?: Record<string, string>
  /**
   * Healthy status codes.
   * @default { min: 200, max: 399 }
   */
  expect?: ExpectedStatus
  /** Healthy only when this holds too (called only for an expected status); throwing means fail. */
  accept?: (answer: HttpCheckAnswer) => boolean | Promise<boolean>
  /**
   * Redirects followed, at most; more fails. With 0 a 3xx is judged as it is.
   * @default 0
   */
  followRedirects?: number
  /**
   * Most bytes of body read; the response is destroyed past it.
   * @default 65536
   */
  maxBodyBytes?: number
}

const FACTORY = 'httpCheck'
const TARGET = 'an http: or https: URL'
const OPTION_KEYS = ['method', 'headers', 'expect', 'accept', 'followRedirects', 'maxBodyBytes']
const DEFAULT_EXPECT = { min: 200, max: 399 }
const DEFAULT_MAX_BODY = 64 * 1024
const REDIRECTS = new Set([301, 302, 303, 307, 308])
// The only headers of the user's that follow a redirect to another origin. Any other may carry
// a credential under a name no list can foresee (x-api-key, x-auth, a vendor's own), so the
// rule is an allow-list of headers that describe the request, not a deny-list of secrets.
const CROSS_ORIGIN_HEADERS = new Set(['accept', 'accept-language', 'user-agent'])
const UPSTREAM_WORDS: Record<string, Status> = {
  warn: Status.WARN, fail: Status.FAIL, error: Status.FAIL, down: Status.FAIL
}

const isInteger = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max
const isCode = (value: unknown): value is number => isInteger(value, 100, 599)

/** The target, parsed; anything but an http(s) URL throws FST_HEALTH_INVALID_CHECK_TARGET. */
function parseTarget (url: unknown): URL {
  if (typeof url !== 'string' && !(url instanceof URL)) invalidTarget(FACTORY, TARGET, url)
  // The error names the kind of target only: the text may hold credentials.
  if (!URL.canParse(String(url))) throw new FST_HEALTH_INVALID_CHECK_TARGET(FACTORY, TARGET, 'a string that is not a URL')
  const parsed = new URL(String(url))
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FST_HEALTH_INVALID_CHECK_TARGET(FACTORY, TARGET, `a ${parsed.protocol} URL`)
  }
  return parsed
}

/** `user:password` of the URL, decoded, for Basic auth; undefined without credentials. */
function credentialsOf (url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined
  try {
    return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  } catch {
    throw new FST_HEALTH_INVALID_CHECK_TARGET(FACTORY, TARGET, 'a URL whose credentials are not valid percent-encoding')
  }
}

function validate (options: HttpCheckOptions): void {
  const { method, headers, expect, accept, followRedirects, maxBodyBytes } = options
  if (method !== undefined && method !== 'GET' && method !== 'HEAD') invalidOption(FACTORY, 'method', 'must be "GET" or "HEAD"')
  if (headers !== undefined && !validHeaders(headers)) invalidOption(FACTORY, 'headers', 'must be an object of valid header names and string values')
  const problem = expect === undefined ? undefined : expectProblem(expect)
  if (problem !== undefined) invalidOption(FACTORY, 'expect', problem)
  if (accept !== undefined && typeof accept !== 'function') invalidOption(FACTORY, 'accept', 'must be a function')
  if (followRedirects !== undefined && !isInteger(followRedirects, 0)) invalidOption(FACTORY, 'followRedirects', 'must be an integer from 0')
  if (maxBodyBytes !== undefined && !isInteger(maxBodyBytes, 0)) invalidOption(FACTORY, 'maxBodyBytes', 'must be an integer from 0')
}

function validHeaders (headers: unknown): boolean {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return false
  try {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') return false
      // node:http's own rules, so that a header it would refuse at request time is refused now.
      validateHeaderName(name)
      validateHeaderValue(name, value)
    }
    return true
  } catch {
    return false
  }
}

function expectProblem (expect: unknown): string | undefined {
  if (isCode(expect)) return undefined
  if (Array.isArray(expect)) return expect.length > 0 && expect.every(isCode) ? undefined : 'must list status codes from 100 to 599'
  const problem = 'must be a status code, an array of them, or { min, max } with min <= max'
  if (typeof expect !== 'object' || expect === null) return problem
  const { min, max, ...rest } = expect as Record<string, unknown>
  return Object.keys(rest).length === 0 && isCode(min) && isCode(max) && min <= max ? undefined : problem
}

const describeExpect = (expect: ExpectedStatus): string =>
  typeof expect === 'number' ? String(expect) : Array.isArray(expect) ? expect.join(', ') : `${expect.min}-${expect.max}`

const expected = (expect: ExpectedStatus, code: number): boolean =>
  typeof expect === 'number' ? code === expect : Array.isArray(expect) ? expect.includes(code) : code >= expect.min && code <= expect.max

/** A URL as a reading may show it: no credentials, no query (it may hold a token), no fragment. */
const publicUrl = (url: URL): string => url.origin + url.pathname

/** One request of a run: where, and what to send. */
interface Hop {
  url: URL
  auth: string | undefined
  headers: Record<string, string>
}

interface HttpReply {
  status: number
  headers: IncomingMessage['headers']
  body: Buffer
  truncated: boolean
  /** performance.now() when the headers arrived. */
  answeredAt: number
}

/** Sends one request and reads at most `maxBody` bytes of the answer; the socket is gone once it settles. */
function exchange (hop: Hop, method: string, maxBody: number, signal: AbortSignal): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const send = hop.url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(hop.url, { method, headers: hop.headers, auth: hop.auth, agent: false })
    let settled = false
    const settle = (error: unknown, answer?: HttpReply): void => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      // Read in full or not: either way this run is done with the connection.
      request.destroy()
      if (answer === undefined) reject(error)
      else resolve(answer)
    }
    const onAbort = (): void => settle(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    request.on('error', settle)
    request.on('response', (response) => {
      const answeredAt = performance.now()
      const chunks: Buffer[] = []
      let size = 0
      const answer = (truncated: boolean): HttpReply =>
        ({ status: response.statusCode as number, headers: response.headers, body: Buffer.concat(chunks), truncated, answeredAt })
      response.on('data', (chunk: Buffer) => {
        if (size + chunk.length <= maxBody) {
          chunks.push(chunk)
          size += chunk.length
          return
        }
        chunks.push(chunk.subarray(0, maxBody - size))
        settle(undefined, answer(true))
      })
      response.on('end', () => settle(undefined, answer(false)))
      // The connection broke mid-body (a reset, the server gone): say so, with the code seen.
      const cutShort = (why: string): void => settle(new Error(`HTTP ${String(response.statusCode)} answer cut short (${why})`))
      response.on('error', (error) => cutShort(describeThrown(error)))
      // After 'end' or 'error' this is a no-op; without either the run must still settle.
      response.on('close', () => cutShort('connection closed'))
    })
    request.end()
  })
}

interface Verdict {
  status: Status
  output?: string
}

/** The upstream's own status when it answered a health+json document that says warn or fail. */
function upstreamVerdict (answer: HttpReply): Verdict | undefined {
  const type = String(answer.headers['content-type']).split(';')[0].trim().toLowerCase()
  if (type !== 'application/health+json' || answer.truncated) return undefined
  let document: { status?: unknown, output?: unknown } | null
  try {
    document = JSON.parse(answer.body.toString('utf8'))
  } catch {
    // Not JSON after all: the status code alone decides.
    return undefined
  }
  const word = typeof document?.status === 'string' ? document.status.trim().toLowerCase() : ''
  const status = Object.hasOwn(UPSTREAM_WORDS, word) ? UPSTREAM_WORDS[word] : undefined
  if (status === undefined) return undefined
  const output = typeof document?.output === 'string' ? `: ${truncate(redact(document.output.replace(/\s+/g, ' ').trim()))}` : ''
  return { status, output: `upstream ${status}${output}` }
}

async function acceptVerdict (accept: NonNullable<HttpCheckOptions['accept']>, answer: HttpReply): Promise<Verdict | undefined> {
  try {
    const shown = { status: answer.status, headers: { ...answer.headers }, body: answer.body.toString('utf8'), truncated: answer.truncated }
    return await accept(shown) ? undefined : { status: Status.FAIL, output: `HTTP ${answer.status}: rejected by the accept predicate` }
  } catch (error) {
    return { status: Status.FAIL, output: `HTTP ${answer.status}: the accept predicate threw ${oneLine(error)}` }
  }
}

/**
 * The next hop of a redirect, or the reason it cannot be followed. On the same origin it sends
 * what the hop before sent; to another origin, the URL's credentials and every header of the
 * user's but those in CROSS_ORIGIN_HEADERS are dropped, and stay dropped for later hops (back
 * to the first origin included, as fetch does).
 */
function redirectHop (previous: Hop, location: string): Hop | string {
  if (!URL.canParse(location, previous.url)) return 'the redirect location is not a URL'
  const url = new URL(location, previous.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `redirected to a ${url.protocol} URL`
  // Credentials in the location are not used: only the target's own, and only on its origin.
  url.username = ''
  url.password = ''
  if (url.origin === previous.url.origin) return { ...previous, url }
  const headers = Object.fromEntries(Object.entries(previous.headers).filter(([name]) => CROSS_ORIGIN_HEADERS.has(name.toLowerCase())))
  return { url, auth: undefined, headers }
}

/** A check that one request to `url` answers a healthy status. */
export function httpCheck (url: string | URL, options?: HttpCheckOptions): ReadyMadeCheck {
  const target = parseTarget(url)
  const settings = checkOptions<HttpCheckOptions>(FACTORY, options, OPTION_KEYS)
  validate(settings)
  const { method = 'GET', expect = DEFAULT_EXPECT, accept, followRedirects = 0, maxBodyBytes = DEFAULT_MAX_BODY } = settings
  const base: ComponentDetail = { componentType: 'component', componentId: settings.componentId ?? publicUrl(target) }
  const credentials = credentialsOf(target)
  const bare = new URL(target)
  bare.username = ''
  bare.password = ''
  const first: Hop = { url: bare, auth: credentials, headers: { ...settings.headers } }

  // Holds nothing between runs: close() has nothing to release.
  return readyMade(async (signal) => {
    signal.throwIfAborted()
    const start = performance.now()
    let hop = first
    let answer: HttpReply | undefined
    // At most followRedirects + 1 requests.
    for (let hops = 0; answer === undefined; hops++) {
      let got: HttpReply
      try {
        got = await exchange(hop, method, maxBodyBytes, signal)
      } catch (error) {
        // Aborted: the runner reports the timeout or the close, this reading is not used.
        if (signal.aborted) throw error
        return failedReading(base, error)
      }
      const location = got.headers.location
      if (followRedirects === 0 || !REDIRECTS.has(got.status) || location === undefined) {
        answer = got
      } else if (hops === followRedirects) {
        return { ...base, status: Status.FAIL, output: `more than ${followRedirects} redirects` }
      } else {
        const next = redirectHop(hop, location)
        if (typeof next === 'string') return { ...base, status: Status.FAIL, output: next }
        hop = next
      }
    }
    // observedValue: from the start to the final answer's headers, not to the end of its body.
    const reading = timedReading(base, start + (performance.now() - answer.answeredAt), settings, 'time to answer')
    const verdicts: Verdict[] = [{ status: reading.status as Status, output: reading.output }]
    if (!expected(expect, answer.status)) {
      verdicts.push({ status: Status.FAIL, output: `HTTP ${answer.status}, expected ${describeExpect(expect)}` })
    } else if (accept !== undefined) {
      const verdict = await acceptVerdict(accept, answer)
      if (verdict !== undefined) verdicts.push(verdict)
    }
    const upstream = upstreamVerdict(answer)
    if (upstream !== undefined) verdicts.push(upstream)
    const status = verdicts.reduce((worst, verdict) => worstStatus(worst, verdict.status), Status.PASS as Status)
    const { output: _rated, ...detail } = reading
    if (status === Status.PASS) return { ...detail, status }
    const output = verdicts.filter((verdict) => verdict.status === status).map((verdict) => verdict.output).join('; ')
    return { ...detail, status, output: truncate(output) }
  })
}
