import { Type } from '@sinclair/typebox'
import { buildSchemas } from '../schema-typebox.js'

// The history documents, written with TypeBox. Not loaded at run time: lib/history/schema.ts
// builds the same objects without TypeBox, takes its types from here, and a test holds the two
// equal. The draft has no history: these documents are the plugin's own (application/json).

export function buildHistorySchemas () {
  const { HealthStatusSchema } = buildSchemas()
  const time = (description: string) => Type.String({ format: 'date-time', description })

  /** One reading of a check. */
  const CheckReadingSchema = Type.Object({
    time: time('When the reading arrived'),
    status: HealthStatusSchema,
    counted: HealthStatusSchema,
    observedValue: Type.Optional(Type.Number({ description: 'The first numeric observedValue of its entries' })),
    observedUnit: Type.Optional(Type.String()),
    durationMs: Type.Number({ description: 'How long the run took' })
  })

  /** A change of how a check counts. */
  const CheckChangeSchema = Type.Object({
    time: time('When it changed'),
    from: Type.Union([HealthStatusSchema, Type.Null()], { description: 'null for the first reading' }),
    to: HealthStatusSchema,
    output: Type.Optional(Type.String({ description: 'The output the change came with' }))
  })

  /** The history of one check: `GET {path}/checks/:name/history`, `health.history(name)`. */
  const CheckHistorySchema = Type.Object({
    name: Type.String(),
    status: Type.Union([HealthStatusSchema, Type.Null()], { description: 'How it counts now; null before its first reading' }),
    since: Type.Union([time('When it started counting as it does now'), Type.Null()]),
    size: Type.Object({ readings: Type.Integer(), changes: Type.Integer() }, { description: 'The most readings and changes kept' }),
    readings: Type.Array(CheckReadingSchema, { description: 'Oldest first' }),
    changes: Type.Array(CheckChangeSchema, { description: 'Oldest first' })
  })

  /** A change of the overall status, and what caused it: a check (its reading or removal) or the state. */
  const StatusChangeSchema = Type.Object({
    time: time('When it changed'),
    from: HealthStatusSchema,
    to: HealthStatusSchema,
    cause: Type.Union([Type.Object({ check: Type.String() }), Type.Object({ state: Type.String() })])
  })

  /** The changes of the overall status: `health.history()`. */
  const StatusHistorySchema = Type.Object({
    status: HealthStatusSchema,
    since: time('When it started being what it is now (or when history began)'),
    size: Type.Integer({ description: 'The most changes kept' }),
    changes: Type.Array(StatusChangeSchema, { description: 'Oldest first' })
  })
  return { CheckReadingSchema, CheckChangeSchema, CheckHistorySchema, StatusChangeSchema, StatusHistorySchema }
}
