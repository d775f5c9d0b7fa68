// The formats the draft gives its fields, checked without a JSON Schema validator at run time:
// `time` is an ISO 8601 date-time, `links` values are URIs, `affectedEndpoints` URI templates.
// Each check is at least as strict as JSON Schema's format of the same name.
import { isIPv6 } from 'node:net'

// RFC 3339's profile of ISO 8601, with what people write beside it: a space for the T, no
// seconds, no offset (local time, as ISO 8601 says), or a date alone.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(?:([Zz])|([+-]\d{2})(?::?(\d{2}))?)?)?$/

/** A date-time as `toISOString()` writes it, from a Date or a string; undefined when it is none. */
export function normalizeDateTime (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const parts = DATE_TIME.exec(value)
  if (parts === null) return undefined
  const [, year, month, day, hour, minute, second = '00', fraction = '', utc, offsetHours, offsetMinutes = '00'] = parts
  // Date.parse rolls 30 February over to March and takes 24:00: refuse what no clock shows.
  const calendar = new Date(0)
  calendar.setUTCFullYear(Number(year), Number(month) - 1, Number(day))
  if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) return undefined
  if (Number(hour ?? 0) > 23 || Number(minute ?? 0) > 59 || Number(second) > 59 || Number(offsetMinutes) > 59) return undefined
  // The form Date.parse reads. Without a time it takes a date as UTC midnight; with a time and
  // no offset, as local time (ISO 8601's rule).
  const zone = utc !== undefined ? 'Z' : offsetHours === undefined ? '' : `${offsetHours}:${offsetMinutes}`
  const iso = `${year}-${month}-${day}` + (hour === undefined ? '' : `T${hour}:${minute}:${second}${fraction}${zone}`)
  const time = Date.parse(iso)
  const normalized = Number.isNaN(time) ? undefined : new Date(time).toISOString()
  // An offset can carry 9999-12-31 into year 10000, which RFC 3339 has no room for.
  return normalized?.startsWith('+') === true || normalized?.startsWith('-') === true ? undefined : normalized
}

// What isoDateTime() wrote last, and the date and time of its second.
let writtenAt = NaN
let written = ''
let secondAt = NaN
let secondText = ''

/**
 * `time`, a whole number of ms since the epoch (Date.now()), as `new Date(time).toISOString()`
 * writes it: the readings' `time`, and the history's. A thousand checks read in the same few ms,
 * and a history document writes thousands of times; a Date's toISOString() costs about as much
 * as the rest of a reading, so it runs once a second, and the milliseconds are written onto its
 * text.
 */
export function isoDateTime (time: number): string {
  if (time === writtenAt) return written
  const ms = ((time % 1000) + 1000) % 1000
  const second = time - ms
  if (second !== secondAt) {
    secondAt = second
    // Without "000Z": the date and time up to the seconds' dot, whatever the year's width.
    secondText = new Date(second).toISOString().slice(0, -4)
  }
  writtenAt = time
  written = `${secondText}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`
  return written
}

// RFC 3986, collected: what may stand in each part of a URI reference.
const PCT = '%[0-9A-Fa-f]{2}'
const UNRESERVED_SUBDELIMS = "A-Za-z0-9\\-._~!$&'()*+,;="
const PCHAR = `(?:[${UNRESERVED_SUBDELIMS}:@]|${PCT})`
const AUTHORITY_PATH = `//((?:[${UNRESERVED_SUBDELIMS}:]|${PCT})*@)?(\\[[^\\]]*\\]|(?:[${UNRESERVED_SUBDELIMS}]|${PCT})*)(?::\\d*)?(?:/${PCHAR}*)*`
const ABSOLUTE_PATH = `/(?:${PCHAR}+(?:/${PCHAR}*)*)?`
const URI_REFERENCE = new RegExp(
  // A scheme, then a path whose first segment may hold a colon; or a relative reference, whose
  // first segment may not (it would read as a scheme).
  `^(?:[A-Za-z][A-Za-z0-9+\\-.]*:(?:${AUTHORITY_PATH}|${ABSOLUTE_PATH}|${PCHAR}+(?:/${PCHAR}*)*)?` +
  `|(?:${AUTHORITY_PATH}|${ABSOLUTE_PATH}|(?:[${UNRESERVED_SUBDELIMS}@]|${PCT})+(?:/${PCHAR}*)*)?)` +
  `(?:\\?(?:${PCHAR}|[/?])*)?(?:#(?:${PCHAR}|[/?])*)?$`
)

/**
 * A URI, absolute or a reference from the root (`/docs`), as the draft wants a link: made of
 * RFC 3986's characters and parts, and read as a URL by Node (or starting with one slash).
 */
export function isUri (value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false
  const parts = URI_REFERENCE.exec(value)
  if (parts === null) return false
  const host = parts[2] ?? parts[4]
  if (host?.startsWith('[') === true && !isIPv6(host.slice(1, -1))) return false
  return (value.startsWith('/') && !value.startsWith('//')) || URL.canParse(value)
}

// RFC 6570: literals, and {expressions} of an optional operator and a list of variable names.
const VARNAME = `(?:[A-Za-z0-9_]|${PCT})+(?::[1-9][0-9]{0,3}|\\*)?`
const URI_TEMPLATE = new RegExp(
  `^(?:[^\\x00-\\x20\\x7f"'<>%\\\\^\`{|}]|${PCT}|\\{[+#./;?&=,!@|]?${VARNAME}(?:,${VARNAME})*\\})*$`
)

/** A URI template (RFC 6570), as the draft wants each of `affectedEndpoints`. */
export function isUriTemplate (value: unknown): boolean {
  return typeof value === 'string' && URI_TEMPLATE.test(value)
}

/**
 * The formats the exported schemas name, as predicates: register them with a validator that
 * does not know them, e.g. `FormatRegistry.Set(name, check)` for TypeBox.
 */
export const HEALTH_FORMATS: Readonly<Record<'date-time' | 'uri-reference' | 'uri-template', (value: string) => boolean>> = {
  // RFC 3339 itself: seconds and an offset are required.
  'date-time': (value) => /[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) && normalizeDateTime(value) !== undefined,
  'uri-reference': isUri,
  'uri-template': isUriTemplate
}

// `componentName:measurementName`: either part may be left out, neither may hold a colon.
const CHECK_KEY = /^[^:]*:?[^:]*$/

/** A key of `checks` as the draft allows it, and not empty (nor a colon alone): a check's name. */
export function isCheckKey (value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== ':' && CHECK_KEY.test(value)
}

// RFC 8288: a registered relation type is a lower-case token (`self`, `about`, `describedby`).
const RELATION_NAME = /^[a-z][a-z0-9.-]*$/

/** A key of `links`: a registered relation name, or an absolute URI (an extension relation type). */
export function isLinkRelation (value: string): boolean {
  return RELATION_NAME.test(value) || (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && isUri(value))
}
