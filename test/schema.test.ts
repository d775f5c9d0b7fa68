// lib/schema.ts builds the schemas without loading TypeBox; they must be exactly what TypeBox
// builds (lib/schema-typebox.ts), symbols included, and work with TypeBox's own tools.
import { isDeepStrictEqual } from 'node:util'
import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import * as schemas from '../lib/schema.js'
import { buildSchemas } from '../lib/schema-typebox.js'

test('every exported schema equals the one TypeBox builds, Kind and Optional markers included', async (t) => {
  const reference = buildSchemas()
  for (const [name, built] of Object.entries(reference)) {
    const ours = schemas[name as keyof typeof reference]
    t.ok(isDeepStrictEqual(ours, built), `${name} is TypeBox's schema`)
    t.same(Object.getOwnPropertySymbols(ours).map(String), Object.getOwnPropertySymbols(built).map(String), `${name}: same markers`)
  }
})

test('TypeBox validates with them and composes them', async (t) => {
  const document = { status: 'warn', notes: ['x'], checks: { 'db:responseTime': [{ status: 'pass', observedValue: 3, region: 'eu' }] } }
  t.ok(TypeCompiler.Compile(schemas.HealthResponseSchema).Check(document), 'TypeCompiler accepts a valid document')
  t.ok(Value.Check(schemas.HealthResponseSchema, document), 'Value accepts it')
  t.notOk(Value.Check(schemas.HealthResponseSchema, { status: 'up' }), 'an alias is no canonical status')
  t.notOk(Value.Check(schemas.HealthResponseSchema, { notes: [] }), 'status is required')
  const wrapped = Type.Object({ health: schemas.HealthResponseSchema })
  t.ok(Value.Check(wrapped, { health: { status: 'pass' } }), 'Type.Object composes with it')
})
