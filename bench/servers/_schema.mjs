// HealthResponseSchema of fastify-health as plain JSON Schema, copied from the built package
// (JSON.stringify of the export), so that the bare process loads neither the plugin nor TypeBox.
// bench/run.mjs checks at start that it still equals the export.
export const HealthResponseJsonSchema = {
  type: 'object',
  required: [
    'status'
  ],
  properties: {
    status: {
      description: 'pass: healthy; warn: healthy with concerns; fail: unhealthy',
      anyOf: [
        {
          const: 'pass',
          type: 'string'
        },
        {
          const: 'warn',
          type: 'string'
        },
        {
          const: 'fail',
          type: 'string'
        }
      ]
    },
    version: {
      type: 'string'
    },
    releaseId: {
      type: 'string'
    },
    notes: {
      type: 'array',
      items: {
        type: 'string'
      }
    },
    output: {
      type: 'string'
    },
    checks: {
      description: 'Keyed "componentName:measurementName"; one entry per node',
      type: 'object',
      patternProperties: {
        '^(.*)$': {
          type: 'array',
          items: {
            additionalProperties: true,
            type: 'object',
            properties: {
              componentId: {
                type: 'string'
              },
              componentType: {
                type: 'string'
              },
              observedValue: {},
              observedUnit: {
                type: 'string'
              },
              status: {
                description: 'pass: healthy; warn: healthy with concerns; fail: unhealthy',
                anyOf: [
                  {
                    const: 'pass',
                    type: 'string'
                  },
                  {
                    const: 'warn',
                    type: 'string'
                  },
                  {
                    const: 'fail',
                    type: 'string'
                  }
                ]
              },
              affectedEndpoints: {
                type: 'array',
                items: {
                  type: 'string'
                }
              },
              time: {
                description: 'ISO 8601 date-time of the reading',
                type: 'string'
              },
              output: {
                type: 'string'
              },
              links: {
                description: 'Link relations (registered names or URIs) to URIs',
                type: 'object',
                patternProperties: {
                  '^(.*)$': {
                    type: 'string'
                  }
                }
              }
            }
          }
        }
      }
    },
    links: {
      description: 'Link relations (registered names or URIs) to URIs',
      type: 'object',
      patternProperties: {
        '^(.*)$': {
          type: 'string'
        }
      }
    },
    serviceId: {
      type: 'string'
    },
    description: {
      type: 'string'
    }
  }
}
