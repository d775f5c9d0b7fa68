import { Type, type Static } from '@sinclair/typebox'

// The application/health+json format of draft-inadarei-api-health-check-06, as TypeBox schemas.
// No `format` keywords: a client validating with TypeBox's Value.Check would need them registered.

export const HealthStatusSchema = Type.Union([
  Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')
], { description: 'pass: healthy; warn: healthy with concerns; fail: unhealthy' })

export const HealthLinksSchema = Type.Record(Type.String(), Type.String(), {
  description: 'Link relations (registered names or URIs) to URIs'
})

/** One component detail: one entry of the array under a `checks` key, one per node. */
export const HealthCheckEntrySchema = Type.Object({
  componentId: Type.Optional(Type.String()),
  componentType: Type.Optional(Type.String()),
  observedValue: Type.Optional(Type.Unknown()),
  observedUnit: Type.Optional(Type.String()),
  status: Type.Optional(HealthStatusSchema),
  affectedEndpoints: Type.Optional(Type.Array(Type.String())),
  time: Type.Optional(Type.String({ description: 'ISO 8601 date-time of the reading' })),
  output: Type.Optional(Type.String()),
  links: Type.Optional(HealthLinksSchema)
}, { additionalProperties: true })

export const HealthChecksSchema = Type.Record(Type.String(), Type.Array(HealthCheckEntrySchema), {
  description: 'Keyed "componentName:measurementName"; one entry per node'
})

/** The whole application/health+json document. */
export const HealthResponseSchema = Type.Object({
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

export type HealthStatus = Static<typeof HealthStatusSchema>
export type HealthLinks = Static<typeof HealthLinksSchema>
export type HealthCheckEntry = Static<typeof HealthCheckEntrySchema>
export type HealthChecks = Static<typeof HealthChecksSchema>
export type HealthResponse = Static<typeof HealthResponseSchema>
