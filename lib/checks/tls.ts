// tlsCertificateCheck: the whole days left before a certificate expires, for a remote TLS
// endpoint, a PEM file or text, or the app's own HTTPS server. Every certificate of the chain
// counts: the one that expires first decides, and one that is not valid yet fails.
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { connect, type ConnectionOptions, type DetailedPeerCertificate, Server as TlsServer } from 'node:tls'
import { truncate } from '../engine/normalize.js'
import type { ComponentDetail } from '../engine/types.js'
import { FST_HEALTH_INVALID_CHECK_TARGET } from '../errors.js'
import { Status, worstStatus } from '../states.js'
import { checkOptions, describeKind, failedReading, invalidOption, type ResponseTimeOptions, serverId } from './common.js'
import { readyMade, type ReadyMadeCheck } from './ready-made.js'

const defaults = {
  /** Whole days left under which the reading is `warn` (or failDays, when larger). */
  warnDays: 30,
  /** Whole days left under which the reading is `fail`: once expired. */
  failDays: 0,
  /** A forged chain whose issuers loop must not be walked for ever. */
  maxChain: 16
} as const

/**
 * What to check: a remote endpoint (`'host:port'` or `{ host, port, servername? }`), PEM text
 * (`'-----BEGIN CERTIFICATE-----…'` or `{ pem }`), a PEM file read at each run (`{ file }`), or
 * the app's own listening TLS server (`{ server: fastify.server, servername? }`). PEM holding
 * several certificates is a chain.
 */
export type TlsCertificateTarget =
  | string
  | { host: string, port: number, servername?: string }
  | { pem: string }
  | { file: string }
  | { server: TlsServer, servername?: string }

export interface TlsCertificateCheckOptions {
  /** Whole days left under which the reading is `warn`. Default 30 (or failDays when larger). */
  warnDays?: number
  /** Whole days left under which the reading is `fail`. Default 0: fail once expired. */
  failDays?: number
  /** `componentId` of the reading. Default: `host:port`, the file's path, the PEM's subject CN or the server's address. */
  componentId?: string
}

const FACTORY = 'tlsCertificateCheck'
const TARGET = "'host:port', { host, port, servername? }, PEM text, { pem }, { file } or { server } (a tls.Server)"
const OPTION_KEYS = ['warnDays', 'failDays']
const DAY = 24 * 60 * 60 * 1000
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g

/** Where the certificates come from, and how the reading names them. */
interface Source {
  componentType: 'component' | 'system'
  /** The default componentId; undefined while unknown (a server that is not listening). */
  id: () => string | undefined
  read: (signal: AbortSignal) => Promise<X509Certificate[]>
}

// The error names the kind of target only: PEM text or a host name is no business of a log.
const badTarget = (got: string): never => { throw new FST_HEALTH_INVALID_CHECK_TARGET(FACTORY, TARGET, got) }

const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535

const parsePem = (text: string): X509Certificate[] => (text.match(PEM_BLOCK) ?? []).map((block) => new X509Certificate(block))

/** The subject's CN, or the whole subject on one line when it has none. */
function commonName (certificate: X509Certificate): string {
  return /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? certificate.subject.replace(/\n/g, ', ')
}

/** SNI is a host name: an IP address is never sent as one (RFC 6066). */
function checkServername (servername: unknown): string | undefined {
  if (servername === undefined) return undefined
  if (typeof servername !== 'string' || servername === '' || isIP(servername) !== 0) {
    return badTarget(`a servername that is ${typeof servername === 'string' ? `"${servername}"` : describeKind(servername)}, not a host name`)
  }
  return servername
}

/** Where to reach a server listening on `address`: the loopback for the unspecified addresses. */
export function dialAddress (address: string): string {
  return address === '::' ? '::1' : address === '0.0.0.0' ? '127.0.0.1' : address
}

/** The certificates of a handshake: the leaf, then each issuer until a self-signed root or the last one known. */
function chainOf (peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = []
  const seen = new Set<string>()
  for (let cert: DetailedPeerCertificate | undefined = peer; cert?.raw !== undefined && !seen.has(cert.fingerprint256) && chain.length < defaults.maxChain; cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256)
    chain.push(new X509Certificate(cert.raw))
  }
  return chain
}

/** One TLS handshake: the peer's certificates, and the socket closed whatever happens. */
function handshake (options: ConnectionOptions, signal: AbortSignal): Promise<X509Certificate[]> {
  return new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // An expired or unknown certificate must be reported, not refused.
    const socket = connect({ ...options, rejectUnauthorized: false })
    const fail = (error: unknown): void => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(error)
    }
    const onAbort = (): void => fail(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    // Kept after the end: an error of a closing socket must not go unhandled.
    socket.on('error', fail)
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort)
      resolve(socket.getPeerCertificate(true))
      // end() flushes the handshake's last message and a close_notify, so that the server sees a
      // whole handshake rather than a reset; the socket is destroyed once they are written.
      socket.end(() => socket.destroy())
    })
  }).then(chainOf)
}

function remoteSource (host: unknown, port: unknown, servername: unknown): Source {
  if (typeof host !== 'string' || host === '') return badTarget(`{ host } with ${host === '' ? 'an empty string' : describeKind(host)}`)
  if (!isPort(port)) return badTarget('a port that is not an integer from 1 to 65535')
  // node:tls sends SNI only when told: a host name is sent as it is, as a browser would.
  const name = checkServername(servername) ?? (isIP(host) === 0 ? host : undefined)
  return { componentType: 'component', id: () => serverId(host, port), read: (signal) => handshake({ host, port, servername: name }, signal) }
}

function parseHostPort (text: string): Source {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s/]+):(\d+)$/.exec(text)
  if (match === null) return badTarget('a string that is neither host:port nor PEM text')
  return remoteSource(match[1], Number(match[2]), undefined)
}

function pemSource (text: unknown): Source {
  let certificates: X509Certificate[] = []
  try {
    if (typeof text === 'string') certificates = parsePem(text)
  } catch {
    badTarget('PEM text that does not parse as a certificate')
  }
  if (certificates.length === 0) return badTarget(typeof text === 'string' ? 'text with no PEM certificate' : `{ pem } with ${describeKind(text)}`)
  const id = commonName(certificates[0] as X509Certificate)
  return { componentType: 'system', id: () => id, read: async () => certificates }
}

function fileSource (path: unknown): Source {
  if (typeof path !== 'string' || path === '') return badTarget(`{ file } with ${path === '' ? 'an empty string' : describeKind(path)}`)
  const absolute = resolve(path)
  // Read at each run: a renewed certificate on disk is seen without a restart.
  return { componentType: 'system', id: () => absolute, read: async (signal) => parsePem(await readFile(absolute, { encoding: 'utf8', signal })) }
}

function serverSource (server: unknown, servername: unknown): Source {
  if (!(server instanceof TlsServer)) return badTarget(`{ server } with ${describeKind(server)}, not a tls.Server (an https or http2 secure server)`)
  const name = checkServername(servername)
  return {
    componentType: 'system',
    id: () => {
      const address = server.address()
      if (address === null) return undefined
      return typeof address === 'string' ? address : serverId(address.address, address.port)
    },
    read: async (signal) => {
      const address = server.address()
      if (address === null) throw new Error('The server is not listening')
      // What a client sees: the certificate (or SNI context) the server really serves.
      const where = typeof address === 'string' ? { path: address } : { host: dialAddress(address.address), port: address.port }
      return handshake({ ...where, servername: name }, signal)
    }
  }
}

function sourceOf (target: unknown): Source {
  if (typeof target === 'string') return target.includes('-----BEGIN') ? pemSource(target) : parseHostPort(target)
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return badTarget(describeKind(target))
  const record = target as Record<string, unknown>
  const keys = Object.keys(record)
  const only = (...allowed: string[]): boolean => keys.every((key) => allowed.includes(key))
  if (Object.hasOwn(record, 'server') && only('server', 'servername')) return serverSource(record.server, record.servername)
  if (Object.hasOwn(record, 'host') && only('host', 'port', 'servername')) return remoteSource(record.host, record.port, record.servername)
  if (Object.hasOwn(record, 'pem') && only('pem')) return pemSource(record.pem)
  if (Object.hasOwn(record, 'file') && only('file')) return fileSource(record.file)
  return badTarget(`an object with the keys ${keys.length === 0 ? '(none)' : keys.join(', ')}`)
}

function validate (options: TlsCertificateCheckOptions & ResponseTimeOptions): { warnDays: number, failDays: number } {
  // The shared warn/fail are round-trip times: this check judges days left.
  for (const key of ['warn', 'fail'] as const) {
    if (options[key] !== undefined) invalidOption(FACTORY, key, 'is not an option of this check (use warnDays or failDays)')
  }
  for (const key of OPTION_KEYS as Array<'warnDays' | 'failDays'>) {
    const days = options[key]
    if (days !== undefined && !(typeof days === 'number' && Number.isFinite(days) && days >= 0)) {
      invalidOption(FACTORY, key, 'must be a finite number of days from 0')
    }
  }
  const failDays = options.failDays ?? defaults.failDays
  const warnDays = options.warnDays ?? Math.max(defaults.warnDays, failDays)
  if (warnDays < failDays) invalidOption(FACTORY, 'warnDays', `is ${warnDays}, below failDays ${failDays}: warn must come before fail`)
  return { warnDays, failDays }
}

interface Verdict { status: Status, output: string }

/** The reading of a chain: the certificate that expires first decides the days left. */
function judge (base: ComponentDetail, certificates: X509Certificate[], warnDays: number, failDays: number): ComponentDetail {
  const now = Date.now()
  const dated = certificates.map((certificate) =>
    ({ name: commonName(certificate), from: Date.parse(certificate.validFrom), to: Date.parse(certificate.validTo) }))
  const first = dated.reduce((earliest, each) => each.to < earliest.to ? each : earliest)
  const days = Math.floor((first.to - now) / DAY)
  const validTo = new Date(first.to).toISOString()
  const verdicts: Verdict[] = dated.filter((each) => each.from > now).map((each) =>
    ({ status: Status.FAIL, output: `Certificate "${each.name}" is not valid before ${new Date(each.from).toISOString()}` }))
  const expires = `Certificate "${first.name}" expires on ${validTo} (${days} days left`
  if (first.to <= now) verdicts.push({ status: Status.FAIL, output: `Certificate "${first.name}" expired on ${validTo}` })
  else if (days < failDays) verdicts.push({ status: Status.FAIL, output: `${expires}, under the fail threshold of ${failDays} days)` })
  else if (days < warnDays) verdicts.push({ status: Status.WARN, output: `${expires}, under the warn threshold of ${warnDays} days)` })
  const status = verdicts.reduce((worst, verdict) => worstStatus(worst, verdict.status), Status.PASS as Status)
  const reading: ComponentDetail = { ...base, observedValue: days, observedUnit: 'days', status, subject: first.name, validTo }
  if (status === Status.PASS) return reading
  return { ...reading, output: truncate(verdicts.filter((verdict) => verdict.status === status).map((verdict) => verdict.output).join('; ')) }
}

/**
 * A check of the days left before a certificate expires (floored: negative once expired).
 * Remote endpoints are `componentType: 'component'`; files, PEM text and the app's own server
 * are `'system'`. Not valid yet, or expired, is `fail`; fewer than `warnDays` days left is `warn`.
 * It holds nothing between runs.
 */
export function tlsCertificateCheck (target: TlsCertificateTarget, options?: TlsCertificateCheckOptions): ReadyMadeCheck {
  const source = sourceOf(target)
  const settings = checkOptions<TlsCertificateCheckOptions & ResponseTimeOptions>(FACTORY, options, OPTION_KEYS)
  const { warnDays, failDays } = validate(settings)

  return readyMade(async (signal) => {
    signal.throwIfAborted()
    const componentId = settings.componentId ?? source.id()
    const base: ComponentDetail = componentId === undefined ? { componentType: source.componentType } : { componentType: source.componentType, componentId }
    let certificates: X509Certificate[]
    try {
      certificates = await source.read(signal)
      if (certificates.length === 0) throw new Error('No certificate found')
    } catch (error) {
      // Aborted: the runner reports the timeout or the close, this reading is not used.
      if (signal.aborted) throw error
      return failedReading(base, error)
    }
    return judge(base, certificates, warnDays, failDays)
  })
}
