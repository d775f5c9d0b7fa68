// Certificates for the TLS tests, made with the openssl command line: a root, intermediates and
// leaves with any validity window, past and future included. OpenSSL 3.0's `x509` can only start
// a certificate now (-days), so every one is signed with `openssl ca -startdate -enddate`.
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const DAY = 24 * 60 * 60 * 1000

/** now + `days` days (+ `hours` hours): a validity bound. */
export const fromNow = (days: number, hours = 0): Date => new Date(Date.now() + days * DAY + hours * 60 * 60 * 1000)

/** One certificate and its key, as PEM text and as files. */
export interface Issued {
  commonName: string
  key: string
  cert: string
  keyFile: string
  certFile: string
  notBefore: Date
  notAfter: Date
}

export interface CertificateRequest {
  commonName: string
  /** The whole subject, instead of /CN=<commonName>: '/O=Example' for one with no CN. */
  subject?: string
  notBefore: Date
  notAfter: Date
  /** The signer; self-signed when left out. */
  issuer?: Issued
  /** A CA certificate (root or intermediate) rather than a server one. */
  ca?: boolean
  /** subjectAltName entries of a server certificate. Default DNS:<commonName>. */
  altNames?: string[]
}

// One config for all: each certificate gets its own folder, database and serial, so that
// several can be made at once.
const CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir
rand_serial = yes
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = optional
organizationName = optional
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf_ext ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = $ENV::ALT_NAMES
`

/** openssl's YYYYMMDDHHMMSSZ, in UTC. */
const asn1Time = (date: Date): string => date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'

let made = 0

/** Makes one certificate under `dir` (a scratch folder) with the validity window asked for. */
export async function issue (dir: string, request: CertificateRequest): Promise<Issued> {
  const folder = join(dir, `cert-${++made}-${request.commonName.replace(/[^a-z0-9.-]/gi, '_')}`)
  await mkdir(folder, { recursive: true })
  await writeFile(join(folder, 'openssl.cnf'), CONFIG)
  await writeFile(join(folder, 'index.txt'), '')
  const keyFile = join(folder, 'key.pem')
  const certFile = join(folder, 'cert.pem')
  const options = { cwd: folder, env: { ...process.env, ALT_NAMES: (request.altNames ?? [`DNS:${request.commonName}`]).join(',') } }
  await run('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', 'request.csr', '-subj', request.subject ?? `/CN=${request.commonName}`
  ], options)
  const signer = request.issuer === undefined
    ? ['-selfsign', '-keyfile', keyFile]
    : ['-cert', request.issuer.certFile, '-keyfile', request.issuer.keyFile]
  await run('openssl', [
    'ca', '-batch', '-notext', '-config', 'openssl.cnf', '-in', 'request.csr', '-out', certFile,
    '-startdate', asn1Time(request.notBefore), '-enddate', asn1Time(request.notAfter),
    '-extensions', request.ca === true ? 'ca_ext' : 'leaf_ext', ...signer
  ], options)
  return {
    commonName: request.commonName,
    key: await readFile(keyFile, 'utf8'),
    cert: await readFile(certFile, 'utf8'),
    keyFile,
    certFile,
    notBefore: request.notBefore,
    notAfter: request.notAfter
  }
}

/** Several certificates as one PEM bundle, in the order given (leaf first). */
export const bundle = (...certificates: Issued[]): string => certificates.map((c) => c.cert.trim()).join('\n') + '\n'

/** The test PKI: a root, a long-lived intermediate, and one that expires in 5 days. */
export interface Pki {
  root: Issued
  intermediate: Issued
  shortIntermediate: Issued
  /** A server certificate under `intermediate` (default) or another issuer. */
  leaf: (commonName: string, notBefore: Date, notAfter: Date, issuer?: Issued) => Promise<Issued>
}

export async function createPki (dir: string): Promise<Pki> {
  const root = await issue(dir, { commonName: 'Test Root CA', notBefore: fromNow(-1), notAfter: fromNow(3650), ca: true })
  const [intermediate, shortIntermediate] = await Promise.all([
    issue(dir, { commonName: 'Test Intermediate CA', notBefore: fromNow(-1), notAfter: fromNow(1825), issuer: root, ca: true }),
    issue(dir, { commonName: 'Short Intermediate CA', notBefore: fromNow(-1), notAfter: fromNow(5, 1), issuer: root, ca: true })
  ])
  return {
    root,
    intermediate,
    shortIntermediate,
    leaf: (commonName, notBefore, notAfter, issuer = intermediate) =>
      issue(dir, { commonName, notBefore, notAfter, issuer, altNames: [`DNS:${commonName}`, 'DNS:localhost', 'IP:127.0.0.1'] })
  }
}
