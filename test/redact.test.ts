// lib/redact.ts: every credential shape, with generated secrets (fast-check), never survives,
// its mask is the same whatever the secret was, and text with no secret comes back unchanged.
import fc from 'fast-check'
import { test } from 'tap'
import { isBasicCredentials, redact } from '../lib/redact.js'

const runs = { numRuns: 300 }

/** Any printable ASCII but whitespace: the `/`, `@`, `:`, quotes and backslashes included. */
const NON_SPACE = [...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))]
const secretOf = (chars: string[]): fc.Arbitrary<string> => {
  const char = fc.constantFrom(...chars)
  const awkward = ['@', '/', ':', '"', "'", 'a', 'p@ss/w:rd', 'a"b\'c'].filter((secret) => [...secret].every((c) => chars.includes(c)))
  return fc.oneof(char, fc.string({ unit: char, minLength: 1, maxLength: 24 }), fc.constantFrom(...awkward))
}

// What a secret may hold in each shape: a URL none of its whitespace; an unquoted value none of
// the separators that end it; a token its token68 characters. Anything at all in JSON.
const urlSecret = secretOf(NON_SPACE)
const bareSecret = secretOf(NON_SPACE.filter((char) => !',;&'.includes(char)))
// token68: letters, digits, `-._~+/`, then any `=` (so `…pWd=` and `…Key==` are in reach).
const tokenSecret = fc.tuple(
  secretOf([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/']),
  fc.constantFrom('', '=', '==')
).map(([token, padding]) => token + padding)
const anySecret = fc.oneof(urlSecret, fc.string({ minLength: 1, maxLength: 24 }), fc.constantFrom('a b', '"\\"', 'x\ny', '\t'))

// Key names, in any case, with the prefixes and suffixes environment variables, settings and
// headers give them.
const keyword = fc.constantFrom(
  'password', 'passwd', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'api-key', 'access_key',
  'client_secret', 'PGPASSWORD', 'DB_PASSWORD', 'AWS_SECRET', 'GITHUB_TOKEN', 'X-Api-Key', 'accessToken', 'passphrase',
  'SECRET_KEY', 'secretKey', 'secret_key_base', 'password_hash', 'MYSQL_PASS', 'pass', 'db.pass', 'credentials',
  'AWS_CREDENTIALS', 'credential', 'AccountKey', 'token2'
)
const casing = fc.constantFrom((text: string) => text, (text: string) => text.toUpperCase(), (text: string) => text.toLowerCase())
const key = fc.tuple(keyword, casing).map(([name, cased]) => cased(name))
// Names whose word is told from the rest by case alone: never changed in case here.
const camelKey = fc.constantFrom('passwordHash', 'dbPass', 'userPassword', 'tokenValue', 'clientSecretId', 'Password1')
// What a connection string (ADO.NET, ODBC) calls its password.
const connectionKey = fc.constantFrom('Password', 'password', 'PWD', 'Pwd', 'passwd', 'DB_PASSWORD', 'MYSQL_PASS', 'pass')

// Text around a secret: words that hold no secret and no trigger for a rule, separated by spaces.
const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.,!?()#%-_'), minLength: 1, maxLength: 8 })
  .filter((text) => !/pass|pwd|secret|token|key|auth|cookie|bearer|basic/i.test(text))
const words = fc.array(word, { maxLength: 4 }).map((list) => list.join(' '))

interface Shape {
  name: string
  secret: fc.Arbitrary<string>
  /** The text with the secret in it. */
  wrap: (secret: string, key: string) => string
  /** What redact() leaves of it. */
  masked: (key: string) => string
}

const shapes: Shape[] = [
  { name: 'URL user info', secret: urlSecret, wrap: (s) => `postgres://orders:${s}@db:5432/orders`, masked: () => 'postgres://***@db:5432/orders' },
  { name: 'URL password alone', secret: urlSecret, wrap: (s) => `redis://:${s}@cache:6379`, masked: () => 'redis://***@cache:6379' },
  { name: 'URL user alone', secret: urlSecret, wrap: (s) => `https://${s}@api.test/health`, masked: () => 'https://***@api.test/health' },
  { name: 'key=value', secret: bareSecret, wrap: (s, k) => `${k}=${s}`, masked: (k) => `${k}=***` },
  { name: 'key: value', secret: bareSecret, wrap: (s, k) => `${k}: ${s}`, masked: (k) => `${k}: ***` },
  { name: 'JSON', secret: anySecret, wrap: (s, k) => `{"${k}":${JSON.stringify(s)}}`, masked: (k) => `{"${k}":***}` },
  { name: 'JSON, spaced', secret: anySecret, wrap: (s, k) => `{ "${k}": ${JSON.stringify(s)}, "user": "bob" }`, masked: (k) => `{ "${k}": ***, "user": "bob" }` },
  {
    name: 'single quotes',
    secret: anySecret.filter((s) => !/['\\\n]/.test(s)),
    wrap: (s, k) => `'${k}' = '${s}'`,
    masked: (k) => `'${k}' = ***`
  },
  { name: 'Authorization header', secret: anySecret.filter((s) => !/[\r\n]/.test(s)), wrap: (s) => `Authorization: Bearer ${s}`, masked: () => 'Authorization: ***' },
  { name: 'Proxy-Authorization header', secret: anySecret.filter((s) => !/[\r\n]/.test(s)), wrap: (s) => `proxy-authorization: Negotiate ${s}`, masked: () => 'proxy-authorization: ***' },
  { name: 'authorization in JSON', secret: anySecret, wrap: (s) => `{"authorization":${JSON.stringify(`Basic ${s}`)}}`, masked: () => '{"authorization":***}' },
  // Inside a JSON string: what JSON.stringify makes of a thrown object, or an upstream quotes.
  {
    name: 'escaped JSON',
    secret: anySecret,
    wrap: (s, k) => `threw {"status":401,"body":${JSON.stringify(JSON.stringify({ [k]: s, user: 'bob' }))}}`,
    masked: (k) => `threw {"status":401,"body":"{\\"${k}\\":***,\\"user\\":\\"bob\\"}"}`
  },
  {
    name: 'escaped JSON, spaced',
    secret: anySecret,
    wrap: (s, k) => JSON.stringify({ body: JSON.stringify({ [k]: s }, null, 1) }),
    masked: (k) => `{"body":"{\\n \\"${k}\\": ***\\n}"}`
  },
  {
    name: 'cookie in escaped JSON',
    secret: anySecret,
    wrap: (s) => JSON.stringify({ body: JSON.stringify({ cookie: `sid=${s}`, user: 'bob' }) }),
    masked: () => '{"body":"{\\"cookie\\":***,\\"user\\":\\"bob\\"}"}'
  },
  {
    name: 'authorization in escaped JSON',
    secret: anySecret,
    wrap: (s) => JSON.stringify({ body: JSON.stringify({ authorization: `Token ${s}` }) }),
    masked: () => '{"body":"{\\"authorization\\":***}"}'
  },
  { name: 'key in brackets', secret: bareSecret, wrap: (s, k) => `user[${k}]=${s}`, masked: (k) => `user[${k}]=***` },
  { name: 'quoted key in brackets', secret: bareSecret, wrap: (s, k) => `params['${k}'] = ${s}`, masked: (k) => `params['${k}'] = ***` },
  { name: 'key => value', secret: anySecret, wrap: (s, k) => `${k} => ${JSON.stringify(s)}`, masked: (k) => `${k} => ***` },
  {
    name: 'quoted value with spaces, then a bracket',
    secret: anySecret.filter((s) => !/['\\\n]/.test(s)),
    wrap: (s, k) => `connect(${k}='${s}')`,
    masked: (k) => `connect(${k}=***`
  },
  { name: 'command line, space', secret: bareSecret, wrap: (s, k) => `--${k} ${s}`, masked: (k) => `--${k} ***` },
  { name: 'command line, quoted', secret: anySecret, wrap: (s, k) => `--${k} ${JSON.stringify(s)}`, masked: (k) => `--${k} ***` },
  { name: 'command line, =', secret: bareSecret, wrap: (s, k) => `--${k}=${s}`, masked: (k) => `--${k}=***` },
  {
    name: 'URL-encoded pair',
    secret: anySecret,
    wrap: (s, k) => `next=%2Flogin%3Fa%3D1%26${k}%3D${encodeURIComponent(s)}`,
    masked: (k) => `next=%2Flogin%3Fa%3D1%26${k}%3D***`
  },
  { name: 'Bearer token', secret: tokenSecret, wrap: (s) => `sent Bearer ${s}`, masked: () => 'sent Bearer ***' },
  { name: 'Basic credentials', secret: anySecret, wrap: (s) => `sent Basic ${Buffer.from(`orders:${s}`).toString('base64')}`, masked: () => 'sent Basic ***' }
]

/** Generated secrets in `shape`, under keys from `keys`, never survive, and their mask gives nothing away. */
function neverSurvives (shape: Shape, keys: fc.Arbitrary<string>): void {
  test(`${shape.name}: the secret never survives, and its mask gives nothing away`, async (t) => {
    fc.assert(fc.property(shape.secret, shape.secret, keys, words, words, (one, other, name, before, after) => {
      // On its own: exactly the mask.
      const alone = redact(shape.wrap(one, name))
      if (alone !== shape.masked(name)) throw new Error(`${JSON.stringify(shape.wrap(one, name))} gave ${JSON.stringify(alone)}`)
      // In text: the same output whatever the secret (so none of it, nor its length, shows).
      const inText = (secret: string): string => redact(`${before} ${shape.wrap(secret, name)} ${after}`.trim())
      return inText(one) === inText(other)
    }), runs)
    t.pass(`${runs.numRuns} secrets`)
  })
}

for (const shape of shapes) neverSurvives(shape, key)

// Names told by case (camelCase), and connection strings, whose values run to the next `;`.
const connectionSecret = anySecret.filter((s) => !/[;\r\n]/.test(s) && !/^[ \t]/.test(s))
const moreShapes: Array<Shape & { key: fc.Arbitrary<string> }> = [
  { name: 'camelCase key=value', key: camelKey, secret: bareSecret, wrap: (s, k) => `${k}=${s}`, masked: (k) => `${k}=***` },
  { name: 'camelCase JSON', key: camelKey, secret: anySecret, wrap: (s, k) => JSON.stringify({ [k]: s }), masked: (k) => `{"${k}":***}` },
  {
    name: 'connection string, a pair inside',
    key: connectionKey,
    secret: connectionSecret,
    wrap: (s, k) => `Server=db;${k}=${s};User Id=sa`,
    masked: (k) => `Server=db;${k}=***;User Id=sa`
  },
  { name: 'connection string, the first pair', key: connectionKey, secret: connectionSecret, wrap: (s, k) => `${k}=${s};Server=db`, masked: (k) => `${k}=***;Server=db` },
  // The last pair, with no `;` after it: its value runs to the end of the line.
  { name: 'connection string, the last pair', key: connectionKey, secret: connectionSecret, wrap: (s, k) => `Server=db;${k}=${s}`, masked: (k) => `Server=db;${k}=***` }
]

for (const shape of moreShapes) neverSurvives(shape, shape.key)

test('a long secret is gone from the output, the text around it kept', async (t) => {
  const secret = 'hunter2/@:"\'x'
  const out = redact(`connect ECONNREFUSED postgres://orders:${secret}@db:5432/orders (PGPASSWORD=${secret} client_secret: ${secret}) refused`)
  t.notOk(out.includes('hunter2'), out)
  t.equal(out, 'connect ECONNREFUSED postgres://***@db:5432/orders (PGPASSWORD=*** client_secret: *** refused')
})

test('a one-character password is masked where it is the value, not everywhere it occurs', async (t) => {
  t.equal(redact('password=a and a cat ate an apple'), 'password=*** and a cat ate an apple')
  t.equal(redact('redis://:a@cache a day'), 'redis://***@cache a day')
})

test('the examples of issue 19', async (t) => {
  t.equal(redact('connect ECONNREFUSED postgres://orders:hunter2@db:5432'), 'connect ECONNREFUSED postgres://***@db:5432')
  t.equal(redact('redis://:s3cr3tpw@cache:6379'), 'redis://***@cache:6379')
  t.equal(redact('PGPASSWORD=s3cret api_key=k1 client_secret=c1'), 'PGPASSWORD=*** api_key=*** client_secret=***')
  t.equal(redact('Authorization: Bearer eyJ.x.y'), 'Authorization: ***')
  t.equal(redact('postgres://orders:pa/ss@w0rd@db/orders'), 'postgres://***@db/orders', 'the last @ ends the user info')
  t.equal(redact('a=1&access_token=t0k&b=2'), 'a=1&access_token=***&b=2', 'a query string keeps its other pairs')
  t.equal(redact('Server=db;Password=pw;User Id=sa'), 'Server=db;Password=***;User Id=sa')
  t.equal(redact('cookie: sid=1; theme=dark'), 'cookie: ***')
  t.equal(redact('"x-api-key": "k1", "accept": "*/*"'), '"x-api-key": ***, "accept": "*/*"')
})

// Regression: the key/value rules wanted a quote right after the key, where JSON inside a JSON
// string has a backslash, so every secret in an escaped body survived.
test('secrets in escaped JSON are masked whole', async (t) => {
  t.equal(
    redact('threw {"status":401,"body":"{\\"password\\":\\"hunter2\\",\\"token\\":\\"s3cr3t\\"}"}'),
    'threw {"status":401,"body":"{\\"password\\":***,\\"token\\":***}"}'
  )
  t.equal(redact('{\\"cookie\\":\\"sid=abc\\"}'), '{\\"cookie\\":***}')
  t.equal(redact('{\\"authorization\\":\\"Token abc\\"}'), '{\\"authorization\\":***}')
  // A quote or a backslash in the secret is escaped twice: it does not end the value.
  t.equal(redact(JSON.stringify(JSON.stringify({ password: 'a"b\\c, d' }))), '"{\\"password\\":***}"')
  t.equal(redact(JSON.stringify(JSON.stringify({ password: 'ends with \\' }))), '"{\\"password\\":***}"')
  t.equal(redact('{\\"password\\": 12345}'), '{\\"password\\": ***', 'an unquoted value: to its separator')
  t.equal(redact("{\\'password\\': \\'a b\\'}"), "{\\'password\\': ***}", 'escaped single quotes')
})

// Regression: each of these came out whole, or partly masked.
test('secret names with a suffix, pass, credentials, brackets, =>, command lines and %3D', async (t) => {
  const cases: Array<[string, string]> = [
    ['SECRET_KEY=hunter2', 'SECRET_KEY=***'],
    ['secretKey=abc', 'secretKey=***'],
    ['secret_key_base=abc', 'secret_key_base=***'],
    ['passwordHash: abc', 'passwordHash: ***'],
    ['MYSQL_PASS=hunter2', 'MYSQL_PASS=***'],
    ['pass=hunter2', 'pass=***'],
    ['credentials=abc aws_credential: def', 'credentials=*** aws_credential: ***'],
    ['user[password]=hunter2&next=1', 'user[password]=***&next=1'],
    ['--password hunter2 --user bob', '--password *** --user bob'],
    ['--db-pass=hunter2', '--db-pass=***'],
    ["--token 'a b' -v", '--token *** -v'],
    ['password%3Dhunter2', 'password%3D***'],
    ["connect(password='hunter two')", 'connect(password=***'],
    ['connect(password="hunter two", user)', 'connect(password=***, user)'],
    ["password => 'hunter2'", 'password => ***'],
    ['{"pass" => "hunter two"}', '{"pass" => ***}'],
    ['DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k1/2+3==;EndpointSuffix=x', 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;EndpointSuffix=x']
  ]
  for (const [text, masked] of cases) t.equal(redact(text), masked, text)
})

// Regression: base64 and bearer tokens may spell a key (`pWd`, `Key`) before an `=`, and the
// pair rules masked from there, which left the token's start in view. Found by the generated
// Basic credentials in CI: `orders:   JVt   ` encodes to `b3JkZXJzOiAgIEpWdCAgIA==`.
test('a token that spells a secret word before its `=` is masked whole', async (t) => {
  const basic = Buffer.from('orders:   JVt   ').toString('base64')
  t.equal(redact(`sent Basic ${basic}`), 'sent Basic ***', basic)
  t.equal(redact('sent Bearer abcPWD=='), 'sent Bearer ***')
  t.equal(redact('sent Bearer x.apiKey=1'), 'sent Bearer ***')
  t.equal(redact('Authorization: Basic b3JkZXJzOiAgIEpWdCAgIA=='), 'Authorization: ***')
  t.equal(redact('password=Basic b3JkZXJzOmh1bnRlcjI='), 'password=*** ***', 'credentials after a key go too')
})

// Regression: after a quoted key in brackets, a quoted value ended at a `]` as it does in JSON,
// so the rest of a secret such as `""]!` stayed in view.
test('after a key in brackets, a `]` is part of the value', async (t) => {
  t.equal(redact('params[\'password\'] = ""]!'), 'params[\'password\'] = ***')
  t.equal(redact('params["token"]: "a"]b, next'), 'params["token"]: ***, next')
  t.equal(redact('{"password":"x"}, {"token":"y"}]'), '{"password":***}, {"token":***}]', 'in JSON it still ends the value')
})

// A connection string's password runs to the next `;`, spaces and all: after a password-like
// key and `=`, when a `;` comes before the pair or after it on its line.
test('a password in a connection string is masked to its `;`, or to the end of the line', async (t) => {
  t.equal(redact('Password=hunter two;'), 'Password=***;')
  t.equal(redact('Server=db;User Id=sa;Password=hunter two'), 'Server=db;User Id=sa;Password=***', 'the last pair: to the end of the line')
  t.equal(redact('Server=db; Pwd = hunter two ;Database=x'), 'Server=db; Pwd = ***;Database=x')
  t.equal(redact('Server=db;Password=hunter two\nnext line'), 'Server=db;Password=***\nnext line')
  t.equal(redact('Password="hunter;two";Server=db'), 'Password=***;Server=db', 'a quoted value holds its `;`')
  t.equal(redact('Password=;Server=db'), 'Password=;Server=db', 'nothing to mask')
  t.equal(redact('password=abc and more'), 'password=*** and more', 'no `;` on the line: an unquoted value, to whitespace')
  t.equal(redact('token=a b;c'), 'token=*** b;c', 'a key that is not password-like: to whitespace')
})

test('what is not a secret is left alone', async (t) => {
  const plain = [
    '', 'HTTP 503, expected 200-399', 'connect ECONNREFUSED 127.0.0.1:5432', 'https://api.test/health answered 200',
    'token expired', 'password reset required', 'tokens: 5', 'Basic checks passed', 'Basic auth refused',
    'mail ops@example.com', 'keys=3 primary key: id', 'a://b', 'http://@host', 'upstream warn: disk 91% full',
    'all checks pass', 'passed: 3', 'PASSED: 3', 'passes: 2', 'bypass=1', 'compass: north', 'secretary: Jane',
    'tokens=5', 'tokenizer: x', 'passwords rotated', 'pass rate 99%', 'DB: pass', 'pass',
    'connect ECONNREFUSED secret-host:5432', 'at token.js:12', 'vault.secret.svc:8200 refused'
  ]
  for (const text of plain) t.equal(redact(text), text, JSON.stringify(text))

  const tricky = fc.constantFrom('https://api.test/health', 'token', 'expired', 'password', 'reset', 'Basic', 'checks', 'key',
    'ops@example.com', 'a=b', 'x:y', 'secretary:', 'keys=3', 'monkey: 1', 'C:/path', '"quoted"', "'single'", 'Basic!',
    'checks pass', 'passed: 3', 'bypass=1', 'tokens=5', 'compass:', 'a;b')
  // A word that happens to start with the base64 of `user:password` (`3jr_!`: `3jr_` decodes with
  // a colon) would be read as Basic credentials after "Basic": a mask there is the rule working,
  // not prose harmed.
  const prose = word.filter((text) => !isBasicCredentials(/^[A-Za-z0-9+/_-]+={0,2}/.exec(text)?.[0] ?? ''))
  const text = fc.array(fc.oneof(prose, tricky), { maxLength: 12 }).chain((list) =>
    fc.array(fc.constantFrom(' ', ', ', '  '), { minLength: list.length, maxLength: list.length })
      .map((gaps) => list.map((item, i) => item + gaps[i]).join('')))
  fc.assert(fc.property(text, (value) => redact(value) === value), runs)
})

// Regression: the search for the `@` that ends a URL's user info went back to the start of the
// text for every `://` with no `@` after it, quadratic: 200 KB of `a:// ` took over a second. The
// guard counts the characters that searches for `@` may look at, not the time taken, which on a
// shared 2-core machine says little: linear, they are at most the text's length.
test('the user info rule looks at each character a bounded number of times', async (t) => {
  const { lastIndexOf } = String.prototype
  /** redact(text), and how many characters lastIndexOf() may have looked at meanwhile. */
  const counted = (text: string): [string, number] => {
    let looked = 0
    String.prototype.lastIndexOf = function (this: string, search: string, from?: number) { // eslint-disable-line no-extend-native
      looked += from === undefined ? this.length : Math.min(from + 1, this.length)
      return lastIndexOf.call(this, search, from)
    }
    try {
      return [redact(text), looked]
    } finally {
      String.prototype.lastIndexOf = lastIndexOf // eslint-disable-line no-extend-native
    }
  }
  const empty = 'a:// '.repeat(80_000)
  const [out, looked] = counted(empty)
  t.equal(out, empty, '400 KB with no user info: unchanged')
  t.ok(looked <= empty.length, `${looked} characters looked at for ${empty.length}`)
  // Runs with characters in them, so that the count sees the searches it bounds.
  const runs = 'a://bc '.repeat(60_000)
  const [same, seen] = counted(runs)
  t.equal(same, runs)
  t.ok(seen > 0 && seen <= runs.length, `${seen} characters looked at for ${runs.length}`)
  t.equal(redact(`${empty}redis://:pw@cache`), `${empty}redis://***@cache`, 'user info after them is masked')
})

test('linear time on inputs that would make a naive pattern backtrack', { timeout: 30_000 }, async (t) => {
  const size = 200_000
  const inputs = ['a://'.repeat(size / 4), 'x'.repeat(size) + 'token', `${'_token'.repeat(size / 6)}=x`,
    `${'authorization'.repeat(size / 13)}`, 'Basic '.repeat(size / 6), '"'.repeat(size) + 'key']
  for (const input of inputs) t.type(redact(input), 'string')
  t.equal(redact(`${'a@'.repeat(10)}://${'b'.repeat(100)}@h`), `${'a@'.repeat(10)}://***@h`)
})

// A name with a secret word at every few characters and no value after it: without the pair
// rules' look ahead, each of these takes about 7 s at 200 KB, 30 at 400 KB; linear, milliseconds.
test('linear time on long names with a secret word at every few characters', { timeout: 30_000 }, async (t) => {
  const size = 400_000
  const names = 'pwd_'.repeat(size / 4)
  const inputs = [names, `${names}= `, `"${names}`, `--${names}`, 'aPass'.repeat(size / 5), 'pwd=x '.repeat(size / 6), 'pwd=x ;'.repeat(size / 7)]
  for (const input of inputs) t.type(redact(input), 'string')
  t.equal(redact(`${names}=x`), `${names}=***`)
})
