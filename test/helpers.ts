import { TypeCompiler } from '@sinclair/typebox/compiler'
import Fastify, { type FastifyInstance } from 'fastify'
import { HealthResponseSchema } from '../lib/index.js'

const compiledResponse = TypeCompiler.Compile(HealthResponseSchema)

/** The validation errors of a health document against the exported schema; [] when valid. */
export function schemaErrors (body: unknown): string[] {
  return [...compiledResponse.Errors(body)].map((e) => `${e.path}: ${e.message}`)
}

/** A Fastify instance that keeps its log lines, to assert on what the plugin logged. */
export function loggedApp (): { app: FastifyInstance, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  return { app: Fastify({ logger: { level: 'info', stream } }), lines }
}
