import type { Static } from '@sinclair/typebox'
import { HealthStatusSchema } from '../schema.js'
import type { buildHistorySchemas } from './schema-typebox.js'

// The TypeBox schemas of the history documents, built as the very objects TypeBox builds (its
// Kind and Optional markers included) without loading TypeBox at run time, as lib/schema.ts
// does. Their types, and the reference they must equal (test/history.test.ts), come from
// lib/history/schema-typebox.ts.

type Schemas = ReturnType<typeof buildHistorySchemas>
type Schema = Record<string | symbol, unknown>

const Kind = Symbol.for('TypeBox.Kind')
const OptionalKind = Symbol.for('TypeBox.Optional')

const described = (description: string | undefined): Schema => description === undefined ? {} : { description }
const time = (description: string): Schema => ({ format: 'date-time', description, type: 'string', [Kind]: 'String' })
const string = (description?: string): Schema => ({ ...described(description), type: 'string', [Kind]: 'String' })
const number = (description?: string): Schema => ({ ...described(description), type: 'number', [Kind]: 'Number' })
const integer = (description?: string): Schema => ({ ...described(description), type: 'integer', [Kind]: 'Integer' })
const nothing = (): Schema => ({ type: 'null', [Kind]: 'Null' })
const union = (anyOf: Schema[], description?: string): Schema => ({ ...described(description), anyOf, [Kind]: 'Union' })
const array = (items: Schema, description: string): Schema => ({ description, type: 'array', items, [Kind]: 'Array' })
const optional = (schema: Schema): Schema => ({ ...schema, [OptionalKind]: 'Optional' })
const status = HealthStatusSchema as unknown as Schema

/** An object schema: properties marked optional() are optional, the others (at least one, in every schema here) required. */
function object (properties: Record<string, Schema>, description?: string): Schema {
  const required = Object.keys(properties).filter((key) => (properties[key] as Schema)[OptionalKind] === undefined)
  return { ...described(description), type: 'object', properties, required, [Kind]: 'Object' }
}

const reading = object({
  time: time('When the reading arrived'),
  status,
  counted: status,
  observedValue: optional(number('The first numeric observedValue of its entries')),
  observedUnit: optional(string()),
  durationMs: number('How long the run took')
})
const checkChange = object({
  time: time('When it changed'),
  from: union([status, nothing()], 'null for the first reading'),
  to: status,
  output: optional(string('The output the change came with'))
})
const statusChange = object({
  time: time('When it changed'),
  from: status,
  to: status,
  cause: union([object({ check: string() }), object({ state: string() })])
})

/** One reading of a check. */
export const CheckReadingSchema = reading as unknown as Schemas['CheckReadingSchema']
/** A change of how a check counts, with the output it came with. */
export const CheckChangeSchema = checkChange as unknown as Schemas['CheckChangeSchema']
/** The history of one check: `GET {path}/checks/:name/history`, `health.history(name)`. */
export const CheckHistorySchema = object({
  name: string(),
  status: union([status, nothing()], 'How it counts now; null before its first reading'),
  since: union([time('When it started counting as it does now'), nothing()]),
  size: object({ readings: integer(), changes: integer() }, 'The most readings and changes kept'),
  readings: array(reading, 'Oldest first'),
  changes: array(checkChange, 'Oldest first')
}) as unknown as Schemas['CheckHistorySchema']
/** A change of the overall status, and its cause: a check (its reading or removal) or the state. */
export const StatusChangeSchema = statusChange as unknown as Schemas['StatusChangeSchema']
/** The changes of the overall status: `health.history()`. */
export const StatusHistorySchema = object({
  status,
  since: time('When it started being what it is now (or when history began)'),
  size: integer('The most changes kept'),
  changes: array(statusChange, 'Oldest first')
}) as unknown as Schemas['StatusHistorySchema']

export type CheckReading = Static<typeof CheckReadingSchema>
export type CheckChange = Static<typeof CheckChangeSchema>
export type CheckHistory = Static<typeof CheckHistorySchema>
export type StatusChangeRecord = Static<typeof StatusChangeSchema>
export type StatusHistory = Static<typeof StatusHistorySchema>

/** `health.history`: what the history keeps, as documents; undefined when `history: false`. */
export interface HealthHistory {
  /** The history of the check named `name`; undefined when no check has that name. */
  (name: string): CheckHistory | undefined
  /** The changes of the overall status. */
  (): StatusHistory | undefined
}
