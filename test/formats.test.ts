// The draft's formats as lib/formats.ts checks them: never looser than ajv-formats, the
// independent reference, and normalising the date-times people write to what the draft wants.
import { fullFormats } from 'ajv-formats/dist/formats.js'
import fc from 'fast-check'
import { test } from 'tap'
import { HEALTH_FORMATS, isoDateTime, isUri, isUriTemplate, normalizeDateTime } from '../lib/formats.js'

type Format = 'date-time' | 'uri-reference' | 'uri-template'
const reference = (format: Format) => {
  const rule = fullFormats[format] as RegExp | { validate: (value: string) => boolean }
  return (value: string): boolean => rule instanceof RegExp ? rule.test(value) : rule.validate(value)
}
const ajvDateTime = reference('date-time')
const ajvUriReference = reference('uri-reference')
const ajvUriTemplate = reference('uri-template')

test('date-times: the ISO 8601 forms people write become RFC 3339 in UTC', async (t) => {
  const cases: Array<[unknown, string]> = [
    ['2023-05-06T07:08:09.010Z', '2023-05-06T07:08:09.010Z'],
    ['2023-05-06T09:08:09+02:00', '2023-05-06T07:08:09.000Z'],
    ['2023-05-06T09:08:09+0200', '2023-05-06T07:08:09.000Z'],
    ['2023-05-06T09:08:09+02', '2023-05-06T07:08:09.000Z'],
    ['2023-05-06T05:38:09-01:30', '2023-05-06T07:08:09.000Z'],
    ['2023-05-06t07:08:09z', '2023-05-06T07:08:09.000Z'],
    ['2023-05-06 07:08Z', '2023-05-06T07:08:00.000Z'],
    ['2023-05-06T07:08:09.123456Z', '2023-05-06T07:08:09.123Z'],
    ['2023-05-06', '2023-05-06T00:00:00.000Z'],
    ['0000-02-29T00:00:00Z', '0000-02-29T00:00:00.000Z']
  ]
  for (const [given, expected] of cases) {
    const normalized = normalizeDateTime(given)
    t.equal(normalized, expected, `${String(given)}`)
    t.ok(ajvDateTime(normalized as string), `${String(given)}: ajv-formats accepts what it becomes`)
  }
  const local = normalizeDateTime('2023-05-06T07:08:09')
  t.equal(local, new Date(2023, 4, 6, 7, 8, 9).toISOString(), 'no offset: local time, as ISO 8601 says')
})

test('isoDateTime writes what toISOString() writes, whatever came before', async (t) => {
  // Times near one another (the same ms, the same second, the next one) as readings come, and
  // anywhere a Date reaches: before 1970, and past year 9999, where the year is wider.
  const near = fc.tuple(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.array(fc.integer({ min: -1500, max: 1500 }), { maxLength: 20 }))
    .map(([start, steps]) => steps.reduce((times, step) => [...times, Math.max(-8.64e15, Math.min(8.64e15, times[times.length - 1] + step))], [start]))
  fc.assert(fc.property(near, (times) => times.every((time) => isoDateTime(time) === new Date(time).toISOString())))
  for (const time of [0, -1, 999, 1000, -1000, -1001, 253402300799999, 253402300800000, Date.now()]) {
    t.equal(isoDateTime(time), new Date(time).toISOString(), `${time}`)
  }
})

test('date-times: anything else is refused', async (t) => {
  for (const bad of [
    'yesterday', '', '1', '2023', '2023-05', '2023-02-29', '2024-02-30T00:00:00Z', '2023-13-01T00:00:00Z',
    '2023-05-06T24:00:00Z', '2023-05-06T23:60:00Z', '2023-05-06T23:59:60Z', '2023-05-06T07:08:09+02:60',
    '2023-05-06T07:08:09+25:00', 'Sat, 06 May 2023 07:08:09 GMT', '+275760-09-13T00:00:00.000Z', ' 2023-05-06',
    '9999-12-31T23:00:00-02:00', 1683356889000, null, {}, []
  ]) {
    t.equal(normalizeDateTime(bad), undefined, JSON.stringify(bad) ?? String(bad))
  }
})

test('date-times: whatever is accepted is what ajv-formats accepts once normalised; RFC 3339 strings are never refused', async (t) => {
  const anyDate = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9998-12-31T00:00:00Z'), noInvalidDate: true })
  const offset = fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([sign, h, m]) => `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`))
  const rfc3339 = fc.tuple(anyDate, offset).map(([date, zone]) => date.toISOString().replace('Z', zone))
  fc.assert(fc.property(rfc3339, (value) => {
    const normalized = normalizeDateTime(value)
    return normalized !== undefined && ajvDateTime(normalized) && HEALTH_FORMATS['date-time'](value)
  }), { numRuns: 500 })
  const mangled = fc.oneof(fc.string({ maxLength: 30 }), rfc3339.chain((value) =>
    fc.tuple(fc.nat(value.length - 1), fc.string({ minLength: 1, maxLength: 1 })).map(([at, c]) => value.slice(0, at) + c + value.slice(at + 1))))
  fc.assert(fc.property(mangled, (value) => {
    const normalized = normalizeDateTime(value)
    if (HEALTH_FORMATS['date-time'](value) && !ajvDateTime(value)) return false
    return normalized === undefined || ajvDateTime(normalized)
  }), { numRuns: 2000 })
})

test('URIs: absolute ones and references from the root; never what ajv-formats refuses', async (t) => {
  for (const good of ['https://example.com/a?b=c#d', 'http://[::1]:8080/x', 'urn:isbn:0451450523', 'mailto:ops@example.com', '/docs/health', '/']) {
    t.ok(isUri(good), good)
    t.ok(ajvUriReference(good), `${good}: ajv-formats agrees`)
  }
  for (const bad of ['', 'docs', '//example.com/x', 'http://exa mple.com', 'https://example.com/%zz', 'http://[::zz]/', 'http://a/<b>',
    'x://a@b@c', 'https://example.com/"', '/a b', 'http://', 1, null, undefined]) {
    t.notOk(isUri(bad), JSON.stringify(bad) ?? 'undefined')
  }
  fc.assert(fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string({ maxLength: 20 }),
    fc.string({ maxLength: 20 }).map((s) => `/${s}`), fc.string({ maxLength: 20 }).map((s) => `https://${s}`)), (value) => {
    return !isUri(value) || ajvUriReference(value)
  }), { numRuns: 3000 })
})

test('URI templates (RFC 6570); never what ajv-formats refuses', async (t) => {
  for (const good of ['/orders/{id}', '/search{?q,limit}', 'https://example.com/{+path}/x{#frag}', '/plain', '', '/a%20b', '{var:3}', '{list*}']) {
    t.ok(isUriTemplate(good), good)
    t.ok(ajvUriTemplate(good), `${good}: ajv-formats agrees`)
  }
  for (const bad of ['/orders/{id', '/orders/}', '/a b', '/{}', '/{a.b}', '/100%', '/{var:0}', '/\u007f', 42]) {
    t.notOk(isUriTemplate(bad), JSON.stringify(bad))
  }
  fc.assert(fc.property(fc.string({ maxLength: 20 }), (value) => !isUriTemplate(value) || ajvUriTemplate(value)), { numRuns: 3000 })
})

test('HEALTH_FORMATS name the formats of the exported schemas', async (t) => {
  t.strictSame(Object.keys(HEALTH_FORMATS).sort(), ['date-time', 'uri-reference', 'uri-template'])
  t.ok(HEALTH_FORMATS['date-time']('2023-05-06T07:08:09Z'))
  t.notOk(HEALTH_FORMATS['date-time']('2023-05-06'), 'RFC 3339 needs a time and an offset')
  t.notOk(HEALTH_FORMATS['date-time']('2023-05-06T07:08:09'), 'and an offset')
  t.ok(HEALTH_FORMATS['uri-reference']('/x'))
  t.ok(HEALTH_FORMATS['uri-template']('/x/{id}'))
})
