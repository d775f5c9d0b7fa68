// dnsCheck: a name resolved, through the system resolver or given DNS servers, timed, and
// optionally required to answer some records.
import { promises as dns } from 'node:dns'
import { performance } from 'node:perf_hooks'
import type { ComponentDetail } from '../engine/types.js'
import { checkOptions, failedReading, invalidOption, invalidTarget, type ResponseTimeOptions, timedReading } from './common.js'
import { truncate } from '../engine/normalize.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** The record type asked of `servers` when none is given. */
  rrtype: 'A',
  /** Through the system resolver, with no rrtype: both address families. */
  family: 0,
  /** What the reading's observedValue is, as its warn/fail output names it. */
  measure: 'time to resolve'
} as const

/** The record types a check can ask for (A and AAAA only through the system resolver). */
export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'PTR' | 'SRV' | 'TXT'

export interface DnsCheckOptions extends ResponseTimeOptions {
  /**
   * DNS servers to ask (`'10.0.0.2'`, `'127.0.0.1:5353'`, `'[::1]:53'`) instead of the system
   * resolver.
   * @default undefined (the system resolver: getaddrinfo, as `dns.lookup`)
   */
  servers?: string[]
  /**
   * The record type asked for; through the system resolver, only 'A' or 'AAAA'.
   * @default 'A' with `servers`, both address families through the system resolver
   */
  rrtype?: DnsRecordType
  /**
   * Records that must be among the answers (compared without case): addresses, names, MX
   * exchanges, SRV `name:port`, TXT strings joined.
   */
  expect?: string[]
}

const FACTORY = 'dnsCheck'
const RECORD_TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT'])
const FAMILIES: Record<string, 0 | 4 | 6> = { A: 4, AAAA: 6 }

const nonEmptyStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== '')

function validate (options: DnsCheckOptions): void {
  const { servers, rrtype, expect } = options
  if (rrtype !== undefined && !RECORD_TYPES.has(rrtype)) invalidOption(FACTORY, 'rrtype', `must be one of ${[...RECORD_TYPES].join(', ')}`)
  if (expect !== undefined && !nonEmptyStrings(expect)) invalidOption(FACTORY, 'expect', 'must be a non-empty array of strings')
  if (servers === undefined) {
    if (rrtype !== undefined && !Object.hasOwn(FAMILIES, rrtype)) {
      invalidOption(FACTORY, 'rrtype', `${rrtype} needs "servers": the system resolver answers A and AAAA only`)
    }
    return
  }
  const problem = 'must be a non-empty array of IP addresses, each with an optional port'
  if (!nonEmptyStrings(servers)) invalidOption(FACTORY, 'servers', problem)
  try {
    new dns.Resolver().setServers(servers)
  } catch {
    invalidOption(FACTORY, 'servers', problem)
  }
}

/** One record as `expect` names it. */
function recordText (record: unknown): string {
  if (typeof record === 'string') return record
  if (Array.isArray(record)) return record.join('')
  const { exchange, name, port } = record as { exchange?: string, name?: string, port?: number }
  return exchange ?? `${name}:${port}`
}

/** `promise`, or the signal's reason as soon as it aborts (after `cancel`). */
function abortable<T> (promise: Promise<T>, signal: AbortSignal, cancel: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      cancel()
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** A check that `hostname` resolves (to the `expect`ed records, when given); it holds nothing between runs. */
export function dnsCheck (hostname: string, options?: DnsCheckOptions): ReadyMadeCheck {
  if (typeof hostname !== 'string' || hostname === '' || /\s/.test(hostname)) invalidTarget(FACTORY, 'a host name', hostname)
  const settings = checkOptions<DnsCheckOptions>(FACTORY, options, ['servers', 'rrtype', 'expect'])
  validate(settings)
  const { servers, expect } = settings
  const base: ComponentDetail = { componentType: 'component', componentId: settings.componentId ?? hostname }

  /** The answers as text, through the servers (a resolver of this run's own, cancelled on abort) or lookup. */
  const resolve = async (signal: AbortSignal): Promise<string[]> => {
    if (servers === undefined) {
      const family = settings.rrtype === undefined ? defaults.family : FAMILIES[settings.rrtype]
      // getaddrinfo cannot be cancelled: an aborted run stops waiting and the lookup ends alone.
      const found = await abortable(dns.lookup(hostname, { all: true, family }), signal, () => {})
      return found.map((entry) => entry.address)
    }
    const resolver = new dns.Resolver()
    resolver.setServers(servers)
    // Every type asked for answers an array (SOA, the one that does not, is not offered).
    const records = await abortable(resolver.resolve(hostname, settings.rrtype ?? defaults.rrtype), signal, () => resolver.cancel())
    return (records as unknown[]).map(recordText)
  }

  return readyMade(async (signal) => {
    signal.throwIfAborted()
    const start = performance.now()
    let answers: string[]
    try {
      answers = await resolve(signal)
    } catch (error) {
      // Aborted: the runner reports the timeout or the close, this reading is not used.
      if (signal.aborted) throw error
      return failedReading(base, error)
    }
    const reading = timedReading(base, start, settings, defaults.measure)
    const found = new Set(answers.map((answer) => answer.toLowerCase()))
    const missing = (expect ?? []).filter((record) => !found.has(record.toLowerCase()))
    if (missing.length === 0) return reading
    return { ...reading, status: 'fail', output: truncate(`${missing.join(', ')} not among the answers (${answers.join(', ')})`) }
  })
}
