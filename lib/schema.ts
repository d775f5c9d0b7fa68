import type { Static } from '@sinclair/typebox'
import type { buildSchemas } from './schema-typebox.js'

// The TypeBox schemas of the application/health+json format, built as the very objects TypeBox
// builds (its Kind and Optional markers included, so TypeCompiler, Value and Type.* compose with
// them), without loading TypeBox at run time. Their types, and the reference they must equal
// (test/schema.test.ts), come from lib/schema-typebox.ts.

type Schemas = ReturnType<typeof buildSchemas>

const Kind = Symbol.for('TypeBox.Kind')
const OptionalKind = Symbol.for('TypeBox.Optional')

type Schema = Record<string | symbol, unknown>
const described = (description: string | undefined): Schema => description === undefined ? {} : { description }
const string = (description?: string, format?: string): Schema =>
  ({ ...(format === undefined ? {} : { format }), ...described(description), type: 'string', [Kind]: 'String' })
const literal = (value: string): Schema => ({ const: value, type: 'string', [Kind]: 'Literal' })
const array = (items: Schema): Schema => ({ type: 'array', items, [Kind]: 'Array' })
const record = (values: Schema, description: string, keyPattern = '^(.*)$', extra: Schema = {}): Schema =>
  ({ description, ...extra, type: 'object', patternProperties: { [keyPattern]: values }, [Kind]: 'Record' })
const optional = (schema: Schema): Schema => ({ ...schema, [OptionalKind]: 'Optional' })

/** An object schema: properties marked optional() are optional, the others required. */
function object (properties: Record<string, Schema>, extra: Schema = {}): Schema {
  const required = Object.keys(properties).filter((key) => properties[key]?.[OptionalKind] === undefined)
  return { ...extra, type: 'object', properties, ...(required.length > 0 ? { required } : {}), [Kind]: 'Object' }
}

const status = (): Schema => ({
  description: 'pass: healthy; warn: healthy with concerns; fail: unhealthy',
  anyOf: [literal('pass'), literal('warn'), literal('fail')],
  [Kind]: 'Union'
})
const links = (): Schema => record(string(undefined, 'uri-reference'), 'Link relations (registered names or URIs) to URIs')
const entry = (): Schema => object({
  componentId: optional(string()),
  componentType: optional(string()),
  observedValue: optional({ [Kind]: 'Unknown' }),
  observedUnit: optional(string()),
  status: optional(status()),
  affectedEndpoints: optional(array(string(undefined, 'uri-template'))),
  time: optional(string('ISO 8601 date-time of the reading', 'date-time')),
  output: optional(string()),
  links: optional(links())
}, { additionalProperties: true })
const checks = (): Schema => record(array(entry()), 'Keyed "componentName:measurementName"; one entry per node',
  '^[^:]*:?[^:]*$', { additionalProperties: false })

export const HealthStatusSchema = status() as unknown as Schemas['HealthStatusSchema']
export const HealthLinksSchema = links() as unknown as Schemas['HealthLinksSchema']
/** One component detail: one entry of the array under a `checks` key, one per node. */
export const HealthCheckEntrySchema = entry() as unknown as Schemas['HealthCheckEntrySchema']
export const HealthChecksSchema = checks() as unknown as Schemas['HealthChecksSchema']
/** The whole application/health+json document. */
export const HealthResponseSchema = object({
  status: status(),
  version: optional(string()),
  releaseId: optional(string()),
  notes: optional(array(string())),
  output: optional(string()),
  checks: optional(checks()),
  links: optional(links()),
  serviceId: optional(string()),
  description: optional(string())
}) as unknown as Schemas['HealthResponseSchema']

export type HealthStatus = Static<typeof HealthStatusSchema>
export type HealthLinks = Static<typeof HealthLinksSchema>
export type HealthCheckEntry = Static<typeof HealthCheckEntrySchema>
export type HealthChecks = Static<typeof HealthChecksSchema>
export type HealthResponse = Static<typeof HealthResponseSchema>
