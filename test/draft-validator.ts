// An independent JSON Schema of application/health+json, written from the text of
// draft-inadarei-api-health-check-06 (not from lib/), and validated with ajv and ajv-formats:
// an answer that passes the project's own schema but breaks the draft fails here.
import Ajv from 'ajv'
import addFormats from 'ajv-formats'

const status = { enum: ['pass', 'warn', 'fail'] }
// "link relations to URIs": every value a URI, absolute, or a reference from the root of the
// service (`/docs`) as the plugin allows; never one relative to where the document was read.
const links = {
  type: 'object',
  additionalProperties: { type: 'string', anyOf: [{ format: 'uri' }, { format: 'uri-reference', pattern: '^/(?!/)' }] }
}

const componentDetail = {
  type: 'object',
  properties: {
    componentId: { type: 'string' },
    componentType: { type: 'string' },
    observedValue: {},
    observedUnit: { type: 'string' },
    status,
    // "an array of URI Templates as defined by [RFC6570]"
    affectedEndpoints: { type: 'array', items: { type: 'string', format: 'uri-template' } },
    // "the date-time, in ISO8601 format, at which the reading of the observedValue was recorded"
    time: { type: 'string', format: 'date-time' },
    output: { type: 'string' },
    links
  }
}

export const draftSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['status'],
  properties: {
    status,
    version: { type: 'string' },
    releaseId: { type: 'string' },
    notes: { type: 'array', items: { type: 'string' } },
    output: { type: 'string' },
    checks: {
      type: 'object',
      // "componentName:measurementName": neither part may contain a colon.
      propertyNames: { pattern: '^[^:]*(:[^:]*)?$' },
      additionalProperties: { type: 'array', items: componentDetail }
    },
    links,
    serviceId: { type: 'string' },
    description: { type: 'string' }
  }
}

// Both are CommonJS modules whose `default` is the real export.
const DraftAjv = Ajv.default
const ajv = new DraftAjv({ allErrors: true, strict: true })
addFormats.default(ajv)
const validate = ajv.compile(draftSchema)

/** What is wrong with a document by the draft's own rules; [] when it is valid. */
export function draftErrors (body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim())
}
