// A tiny DNS server over UDP on 127.0.0.1 for the tests: it answers the records it is given,
// NXDOMAIN for any other name, and, in mode 'hang', never answers at all.
import { createSocket, type RemoteInfo } from 'node:dgram'

export interface DnsRecords {
  A?: string[]
  AAAA?: string[]
  CNAME?: string[]
  TXT?: string[][]
  MX?: Array<{ exchange: string, priority: number }>
  SRV?: Array<{ name: string, port: number, priority: number, weight: number }>
}

export interface DnsServer {
  port: number
  /** `127.0.0.1:port`, as the `servers` option takes it. */
  address: string
  /** Every question received, in order: `name/TYPE`. */
  queries: string[]
  mode: 'answer' | 'hang'
  close: () => Promise<void>
}

const TYPES: Record<number, keyof DnsRecords> = { 1: 'A', 5: 'CNAME', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV' }
const CODES = Object.fromEntries(Object.entries(TYPES).map(([code, type]) => [type, Number(code)])) as Record<keyof DnsRecords, number>

const u16 = (value: number): Buffer => Buffer.from([value >> 8, value & 0xff])

function encodeName (name: string): Buffer {
  const labels = name.split('.').filter((label) => label !== '')
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])])
}

function ipv6 (address: string): Buffer {
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' || tail === undefined ? [] : tail.split(':')
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return Buffer.concat(groups.map((group) => u16(parseInt(group, 16))))
}

function rdata (type: keyof DnsRecords, record: unknown): Buffer {
  switch (type) {
    case 'A': return Buffer.from((record as string).split('.').map(Number))
    case 'AAAA': return ipv6(record as string)
    case 'CNAME': return encodeName(record as string)
    case 'TXT': return Buffer.concat((record as string[]).map((text) => Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)])))
    case 'MX': {
      const { exchange, priority } = record as { exchange: string, priority: number }
      return Buffer.concat([u16(priority), encodeName(exchange)])
    }
    case 'SRV': {
      const { name, port, priority, weight } = record as { name: string, port: number, priority: number, weight: number }
      return Buffer.concat([u16(priority), u16(weight), u16(port), encodeName(name)])
    }
  }
}

/** The question of a query: its name, type, and where it ends. */
function question (query: Buffer): { name: string, type: number, end: number } {
  const labels: string[] = []
  let at = 12
  // Bounded by the packet: every label moves forward.
  while (at < query.length && query[at] !== 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]).toString('ascii'))
    at += 1 + query[at]
  }
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 }
}

function answer (query: Buffer, zone: Record<string, DnsRecords>): Buffer {
  const { name, type, end } = question(query)
  const records = Object.hasOwn(zone, name) ? zone[name] : undefined
  const kind = TYPES[type]
  const found = records !== undefined && kind !== undefined ? (records[kind] ?? []) as unknown[] : []
  // QR, the query's opcode and RD, AA, RA; rcode 3 (NXDOMAIN) for a name the zone does not hold.
  const flags = 0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | (records === undefined ? 3 : 0)
  const header = Buffer.concat([query.subarray(0, 2), u16(flags), u16(1), u16(found.length), u16(0), u16(0)])
  const answers = found.map((record) => {
    const data = rdata(kind, record)
    // The name is a pointer to the question's (offset 12); class IN, TTL 60.
    return Buffer.concat([u16(0xc00c), u16(CODES[kind]), u16(1), Buffer.from([0, 0, 0, 60]), u16(data.length), data])
  })
  return Buffer.concat([header, query.subarray(12, end), ...answers])
}

/** Starts the server on a free UDP port of 127.0.0.1 with `zone` (names in lower case). */
export async function startDnsServer (zone: Record<string, DnsRecords>): Promise<DnsServer> {
  const socket = createSocket('udp4')
  const server: DnsServer = {
    port: 0,
    address: '',
    queries: [],
    mode: 'answer',
    close: () => new Promise((resolve) => socket.close(() => resolve()))
  }
  socket.on('message', (query: Buffer, from: RemoteInfo) => {
    if (query.length < 17) return
    const { name, type } = question(query)
    server.queries.push(`${name}/${TYPES[type] ?? type}`)
    if (server.mode === 'hang') return
    socket.send(answer(query, zone), from.port, from.address)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
  server.port = socket.address().port
  server.address = `127.0.0.1:${server.port}`
  return server
}
