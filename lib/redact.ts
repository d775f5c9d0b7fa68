// One redaction pass for every `output` and log line: URL user info, `password=…`-like pairs,
// and Authorization/Bearer/Basic values. Each secret's whole value becomes one fixed mask, so
// the mask says nothing of the secret (not its length, not its characters), and nothing else of
// the text is touched: a secret's text is never replaced where it occurs elsewhere (a
// one-character password masked everywhere would give it away).
// Over-redaction is the price of never leaking: a URL with an `@` in its path loses what comes
// before that `@`, and a header value is masked to the end of its line.

const MASK = '***'

// Cheap first look: text with none of these cannot match any rule and is returned as it is.
const CANDIDATE = /:\/\/|pass|pwd|secret|token|key|authoriz|cookie|bearer|basic/i

// A quoted value: closed, and followed by what may end a value (else it is read unquoted). A
// closing bracket may end it only after a quoted key (`{"password":"x"}`): after a bare key,
// `password='')` is one unquoted value, or a mask would tell where the secret's quotes were.
const plainQuoted = (q: string, ends: string): string => String.raw`${q}(?:[^${q}\\\n]|\\.)*${q}(?=$|[\s,;&${ends}])`
// The same value inside a JSON string (JSON.stringify of a thrown object, an upstream's output
// quoting JSON): `\"x\"`, escaped twice where the secret has a quote or a backslash (`\\\"`,
// `\\\\`), so read as an escaped character (`\n`), or an escaped backslash and what follows
// it. It may also end at the closing quote of the string it is in, or at an escaped `\n`.
const escapedQuoted = (q: string, ends: string): string =>
  String.raw`\\${q}(?:[^${q}\\\n]|\\[^${q}\\\n]|\\\\(?:\\.|[^${q}\\\n]))*\\${q}(?=$|[\s,;&"'${ends}]|\\[nrt])`
const quoted = (ends: string): string =>
  [plainQuoted('"', ends), plainQuoted("'", ends), escapedQuoted('"', ends), escapedQuoted("'", ends)].join('|')
// An unquoted value: up to whitespace or a separator of pairs (`a=1;b=2`, `?a=1&b=2`, `a: 1, b: 2`).
const BARE = String.raw`[^\s,;&]+`

// The names a secret's key ends with (any prefix: `DB_PASSWORD`, `accessToken`).
const SECRET_NAME = String.raw`[\w.-]*?(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)`
// `"api_key": "…"`, `'password' = '…'`, `{\"token\":\"…\"}`: a quoted key (its quotes may be
// escaped, in a JSON string), whose value may end at a closing bracket.
const QUOTED_KEY_PAIR = new RegExp(
  String.raw`(?<![\w.-])(\\?["'])(${SECRET_NAME})\1([ \t]*[=:][ \t]*)(?:${quoted(String.raw`}\])`)}|${BARE})`,
  'gi'
)
// `password=…`, `PGPASSWORD=…`, `client_secret: …`, `X-Api-Key: …`: a bare key.
const SECRET_PAIR = new RegExp(
  String.raw`(?<![\w.-])()(${SECRET_NAME})([ \t]*[=:][ \t]*)(?:${quoted('')}|${BARE})`,
  'gi'
)

// `Authorization: <scheme> <credentials>`, `Cookie: …`: the value is masked to the end of the
// line (or of its quotes), since a header value may hold spaces and commas.
const HEADER = new RegExp(
  String.raw`(?<![\w-])((?:\\?["'])?)((?:[\w-]*authorization|(?:set-)?cookie))\1([ \t]*[=:][ \t]*)(?:${quoted(String.raw`}\])`)}|[^\r\n]+)`,
  'gi'
)

// `Bearer <token>` anywhere (a token has no whitespace, quote or separator).
const BEARER = /\b(bearer)([ \t]+)[^\s"',;]+/gi
// `Basic <base64>` anywhere, when it decodes to `user:password` (so "Basic checks" stays prose).
const BASIC = /\b(basic)([ \t]+)([A-Za-z0-9+/_-]+={0,2})(?![\w+/=-])/gi

// The value goes with its quotes: a mask in quotes would tell that the secret was quoted.
const MASKED_PAIR = `$1$2$1$3${MASK}`

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
  return maskUserInfo(text)
    .replace(HEADER, MASKED_PAIR)
    .replace(QUOTED_KEY_PAIR, MASKED_PAIR)
    .replace(SECRET_PAIR, MASKED_PAIR)
    .replace(BEARER, `$1$2${MASK}`)
    .replace(BASIC, maskBasic)
}
