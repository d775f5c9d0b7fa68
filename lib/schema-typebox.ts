import { Type } from '@sinclair/typebox'

// The application/health+json format of draft-inadarei-api-health-check-06, written with
// TypeBox. Not loaded at run time: lib/schema.ts builds the same objects without TypeBox's
// ~2 MiB of modules, takes its types from here, and a test holds the two equal.
// The draft's formats are named (date-time, uri-reference, uri-template): a validator must know
// them, as ajv does with ajv-formats; TypeBox users register HEALTH_FORMATS (lib/formats.ts).

export function buildSchemas () {
  const HealthStatusSchema = Type.Union([
    Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')
  ], { description: 'pass: healthy; warn: healthy with concerns; fail: unhealthy' })

  const HealthLinksSchema = Type.Record(Type.String(), Type.String({ format: 'uri-reference' }), {
    description: 'Link relations (registered names or URIs) to URIs'
  })

  /** One component detail: one entry of the array under a `checks` key, one per node. */
  const HealthCheckEntrySchema = Type.Object({
    componentId: Type.Optional(Type.String()),
    componentType: Type.Optional(Type.String()),
    observedValue: Type.Optional(Type.Unknown()),
    observedUnit: Type.Optional(Type.String()),
    status: Type.Optional(HealthStatusSchema),
    affectedEndpoints: Type.Optional(Type.Array(Type.String({ format: 'uri-template' }))),
    time: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 date-time of the reading' })),
    output: Type.Optional(Type.String()),
    links: Type.Optional(HealthLinksSchema)
  }, { additionalProperties: true })

  // `componentName:measurementName`: either part may be left out, neither may hold a colon.
  const HealthChecksSchema = Type.Record(Type.String({ pattern: '^[^:]*:?[^:]*$' }), Type.Array(HealthCheckEntrySchema), {
    description: 'Keyed "componentName:measurementName"; one entry per node',
    additionalProperties: false
  })

  /** The whole application/health+json document. */
  const HealthResponseSchema = Type.Object({
    status: HealthStatusSchema,
    version: Type.Optional(Type.String()),
    releaseId: Type.Optional(Type.String()),
    notes: Type.Optional(Type.Array(Type.String())),
    output: Type.Optional(Type.String()),
    checks: Type.Optional(HealthChecksSchema),
    links: Type.Optional(HealthLinksSchema),
    serviceId: Type.Optional(Type.String()),
    description: Type.Optional(Type.String())
  })
  return { HealthStatusSchema, HealthLinksSchema, HealthCheckEntrySchema, HealthChecksSchema, HealthResponseSchema }
}
