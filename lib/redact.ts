// One redaction pass for every `output` and log line: URL user info, `password=…`-like pairs,
// and Authorization/Bearer/Basic values. Each secret's whole value becomes one fixed mask, so
// the mask says nothing of the secret (not its length, not its characters), and nothing else of
// the text is touched: a secret's text is never replaced where it occurs elsewhere (a
// one-character password masked everywhere would give it away).
//
// A pair's key is a name ending with a secret word (password, passwd, passphrase, pwd, secret,
// token, credential(s), api/access/account/private/secret key), with any prefix (`DB_PASSWORD`,
// `accessToken`) and a suffix that is a part of its own (`secret_key_base`, `passwordHash`,
// `TOKEN2`), not more letters (`secretary`, `tokens`). `pass` counts only as a whole part
// (`pass`, `MYSQL_PASS`, `dbPass`; not `bypass`, `passed`), and only as a key: "checks pass"
// is prose, but a count such as `pass: 3` is masked. The key may be quoted (`"token": …`), in
// escaped quotes inside a JSON string (`{\"token\":\"…\"}`), or end in `]` (`user[password]=`);
// it is followed by `=`, `:`, `=>` or an encoded `%3D`, or by spaces after `--` (`--password x`).
// A value in quotes is masked to its closing quote, and on to the next separator when more than
// a separator follows it; an unquoted value to whitespace or a separator (`,`, `;`, `&`; after
// `%3D`, an encoded `%26` does not end it).
// In a connection string (ADO.NET, ODBC: `Server=db;Password=a b;…`) a value may hold spaces: a
// password-like key (password, passwd, passphrase, pwd, pass) with `=` has its value masked to
// the next `;`, or to the end of the line, when a `;` comes before the pair or after it on its
// line.
// Over-redaction is the price of never leaking: a URL with an `@` in its path loses what comes
// before that `@`, a header value is masked to the end of its line, and a connection string's
// password to its `;`.

const MASK = '***'

// Cheap first look: text with none of these cannot match any rule and is returned as it is.
const CANDIDATE = /:\/\/|pass|pwd|secret|token|key|credential|authoriz|cookie|bearer|basic/i

// A value in quotes, and the same inside a JSON string (JSON.stringify of a thrown object, an
// upstream's output quoting JSON): `\"x\"`, escaped twice where the secret has a quote or a
// backslash (`\\\"`, `\\\\`), so read as an escaped character (`\n`), or an escaped backslash
// and what follows it.
const inQuotes = (q: string): string => String.raw`${q}(?:[^${q}\\\n]|\\.)*${q}`
const inEscapedQuotes = (q: string): string => String.raw`\\${q}(?:[^${q}\\\n]|\\[^${q}\\\n]|\\\\(?:\\.|[^${q}\\\n]))*\\${q}`
const QUOTES = `${inQuotes('"')}|${inQuotes("'")}`
/**
 * A quoted value: to its closing quote when what follows may end a value (whitespace, a
 * separator, `ends`; for escaped quotes also the end of the string they are in, or an escaped
 * `\n`), else on through `rest`: `password='x'y` is one value, or a mask would tell where the
 * secret's quotes were.
 */
const quoted = (ends: string, rest: string): string =>
  String.raw`(?:${QUOTES})(?:(?=$|[\s,;&${ends}])|${rest})|(?:${inEscapedQuotes('"')}|${inEscapedQuotes("'")})(?:(?=$|[\s,;&"'${ends}]|\\[nrt])|${rest})`
// An unquoted value: up to whitespace or a separator of pairs (`a=1;b=2`, `?a=1&b=2`, `a: 1, b: 2`).
const BARE = String.raw`[^\s,;&]+`
// A pair's value: after a bare key, a closing bracket is no end (`connect(password='a b')` masks
// the bracket too); after a quoted key it is (`{"password":"x"}`).
const value = (ends: string): string => `${quoted(ends, String.raw`[^\s,;&]*`)}|${BARE}`

/** `words` in either case, letter by letter: the pair rules need case to tell `secretKey` from `secretary`. */
const caseless = (words: string): string => words.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`)
// `pass` only as a whole part of a name: after nothing, `_`, `.`, `-` or a digit, or in camelCase.
const PASS = String.raw`(?:[\w.-]*?[_.\d-])?${caseless('pass')}|[\w.-]*?[a-z]P${caseless('ass')}`
const PASSWORD_WORD = caseless('password|passwd|passphrase|pwd')
const SECRET_WORD = `${PASSWORD_WORD}|${caseless('secret|token|credentials?|(?:api|access|account|private|secret)[_-]?key')}`
// After the word: nothing, or a part of its own after `_`, a digit or a capital, never more
// lower-case letters of the same word. Not after `-` or `.`: `secret-host:5432` and
// `token.js:12` are a host and a file, whose port and line an operator needs.
const SUFFIX = String.raw`(?:[_\d][\w.-]*|(?<=[a-z])[A-Z][\w.-]*)?`
const SECRET_NAME = String.raw`(?:[\w.-]*?(?:${SECRET_WORD})|${PASS})${SUFFIX}`
// `=`, `:`, `=>`, `%3D`, after an optional `]`. After a bare key, `=>` needs a space before it:
// `password=>x` is `=` and a secret that starts with `>`.
const QUOTED_KEY_SEPARATOR = String.raw`\]?[ \t]*(?:=>|[=:]|%3[dD])[ \t]*`
const ARROW = String.raw`[ \t]+=>`
const SEPARATOR = String.raw`\]?(?:${ARROW}|[ \t]*(?:[=:]|%3[dD]))[ \t]*`
// Each pair rule first looks ahead, in one pass over the name, for a separator and a value after
// it: without, the name's pattern (a word anywhere in it, a suffix after) would be tried again at
// each word of a long name that has none, which takes time quadratic in the name's length.
// `"api_key": "…"`, `'password' = '…'`, `{\"token\":\"…\"}`: a quoted key (its quotes may be
// escaped, in a JSON string), whose value may end at a closing bracket. Not after a key in
// brackets (`params['password'] = ""]x`): that value is in no bracket, so a `]` in it is the secret's.
const AFTER_BRACKETED_KEY = String.raw`(?<=\][ \t]*(?:=>|[=:]|%3[dD])[ \t]*)`
const QUOTED_KEY_PAIR = new RegExp(
  String.raw`(?<![\w.-])(\\?["'])(?=[\w.-]+\1${QUOTED_KEY_SEPARATOR}[^\s,;&])(${SECRET_NAME})\1(${QUOTED_KEY_SEPARATOR})` +
    String.raw`(?:${AFTER_BRACKETED_KEY}(?:${value('')})|${value(String.raw`}\])`)})`,
  'g'
)
// `password=…`, `PGPASSWORD=…`, `client_secret: …`, `X-Api-Key: …`, `user[password]=…`: a bare key.
// An option followed by a space is OPTION_PAIR's: in `--password :x`, `:x` is the secret.
const SECRET_PAIR = new RegExp(
  String.raw`(?<![\w.-])()(?!--[\w.-]+[ \t])(?=[\w.-]+${SEPARATOR}[^\s,;&])(${SECRET_NAME})(${SEPARATOR})(?:${value('')})`,
  'g'
)
// `--password hunter2`, `--token "a b"`: a command line's option and its value.
const OPTION_PAIR = new RegExp(
  String.raw`(?<![\w.-])()(?=--[\w.-]+[ \t]+[^\s,;&])(--${SECRET_NAME})([ \t]+)(?:${value('')})`,
  'g'
)
// `Password=a b;`: a password-like key in what may be a connection string. Every match runs to
// the next `;` or the end of the line; maskConnectionPair() masks it only in a connection string
// and leaves the rest to SECRET_PAIR. Matching on to the end of a line with no `;` costs no
// rescanning: no later pair on that line can be in a connection string either.
const CONNECTION_PAIR = new RegExp(
  String.raw`(?<![\w.-])((?:[\w.-]*?(?:${PASSWORD_WORD})|${PASS}))((?:${ARROW}|[ \t]*=)[ \t]*)((?:${QUOTES})?[^;\r\n]*)(;?)`,
  'g'
)

// `Authorization: <scheme> <credentials>`, `Cookie: …`: the value is masked to the end of the
// line (or of its quotes), since a header value may hold spaces and commas.
const HEADER = new RegExp(
  String.raw`(?<![\w-])((?:\\?["'])?)((?:[\w-]*authorization|(?:set-)?cookie))\1([ \t]*[=:][ \t]*)(?:${quoted(String.raw`}\])`, String.raw`[^\r\n]*`)}|[^\r\n]+)`,
  'gi'
)

// `Bearer <token>` anywhere (a token has no whitespace, quote or separator).
const BEARER = /\b(bearer)([ \t]+)[^\s"',;]+/gi
// `Basic <base64>` anywhere, when it decodes to `user:password` (so "Basic checks" stays prose).
const BASIC = /\b(basic)([ \t]+)([A-Za-z0-9+/_-]+={0,2})(?![\w+/=-])/gi

// The value goes with its quotes: a mask in quotes would tell that the secret was quoted.
const MASKED_PAIR = `$1$2$1$3${MASK}`

/** A CONNECTION_PAIR match masked when it is in a connection string: a `;` before it or after it. */
function maskConnectionPair (match: string, name: string, separator: string, secret: string, end: string, offset: number, text: string): string {
  if (secret === '') return match
  let before = offset - 1
  while (before >= 0 && (text[before] === ' ' || text[before] === '\t')) before--
  return end === ';' || text[before] === ';' ? `${name}${separator}${MASK}${end}` : match
}

/** Whether base64 `text` is what an encoder makes of `user:password`: padded, with a colon. */
export function isBasicCredentials (text: string): boolean {
  return text.length % 4 === 0 && Buffer.from(text, 'base64').toString('latin1').includes(':')
}

const maskBasic = (match: string, scheme: string, space: string, credentials: string): string =>
  isBasicCredentials(credentials) ? `${scheme}${space}${MASK}` : match

/**
 * The user info of every `scheme://user:password@host`: it runs from `://` to the last `@` before
 * the next whitespace, so a password holding `/`, `@`, `:` or quotes goes whole. Linear: each
 * run of non-space text is scanned once, however many `://` it holds.
 */
function maskUserInfo (text: string): string {
  let from = text.indexOf('://')
  if (from === -1) return text
  const WHITESPACE = /\s/g
  let result = ''
  let kept = 0
  while (from !== -1) {
    const start = from + 3
    WHITESPACE.lastIndex = start
    const end = WHITESPACE.test(text) ? WHITESPACE.lastIndex - 1 : text.length
    // Within this run only: searching back from `end` through the whole text, for every `://`
    // with no `@` after it, was quadratic.
    const at = text.slice(start, end).lastIndexOf('@')
    if (at > 0) {
      result += text.slice(kept, start) + MASK
      kept = start + at
    }
    from = text.indexOf('://', end)
  }
  return kept === 0 ? text : result + text.slice(kept)
}

/** `text` with every credential it holds replaced by `***`; the same string when it holds none. */
export function redact (text: string): string {
  if (!CANDIDATE.test(text)) return text
  // Tokens first: a pair rule would read `…pWd…=` inside a base64 or bearer token as a key of
  // its own, mask from there on, and leave the token's start in view.
  return maskUserInfo(text)
    .replace(BEARER, `$1$2${MASK}`)
    .replace(BASIC, maskBasic)
    .replace(HEADER, MASKED_PAIR)
    .replace(QUOTED_KEY_PAIR, MASKED_PAIR)
    .replace(CONNECTION_PAIR, maskConnectionPair)
    .replace(SECRET_PAIR, MASKED_PAIR)
    .replace(OPTION_PAIR, MASKED_PAIR)
}
