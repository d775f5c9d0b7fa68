import { types } from 'node:util'
import type { HealthCheckEntry } from '../schema.js'
import { isLinkRelation, isUri, isUriTemplate, normalizeDateTime } from '../formats.js'
import { redact } from '../redact.js'
import { Status } from '../states.js'

/** A component detail after normalisation: its status is always set. */
export type ReadingEntry = HealthCheckEntry & { status: Status }

/** Longest `output` kept from a check, so that one chatty error cannot bloat every answer. */
const MAX_OUTPUT_LENGTH = 512
/** Most bytes one check's serialized result may take. */
const MAX_RESULT_BYTES = 16 * 1024
/** Most component details (nodes) one check may return. */
const MAX_NODES = 64

// Readers of the draft accept these aliases; writers must use the canonical words.
const statusWords: Record<string, Status> = {
  pass: Status.PASS,
  ok: Status.PASS,
  up: Status.PASS,
  warn: Status.WARN,
  fail: Status.FAIL,
  error: Status.FAIL,
  down: Status.FAIL
}

export function truncate (text: string, max = MAX_OUTPUT_LENGTH): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

/** An entry that says the check failed, and why, in words only: never a stack trace nor a secret. */
export function failedEntry (output: string, time: string): ReadingEntry {
  return { status: Status.FAIL, time, output: truncate(redact(output)) }
}

// A thrown object's `stack` keys, at any depth, are left out of its JSON: a stack has no place
// in an output, whoever copied it there.
const withoutStacks = (key: string, value: unknown): unknown => key === 'stack' ? undefined : value

/** The message of anything thrown, without its stack; never throws itself. */
export function describeThrown (thrown: unknown): string {
  try {
    // isNativeError: an Error made in another realm (a vm context) is no `instanceof Error` here.
    if (thrown instanceof Error || types.isNativeError(thrown)) return thrown.message === '' ? thrown.name : `${thrown.name}: ${thrown.message}`
    return `threw ${typeof thrown === 'string' ? thrown : JSON.stringify(thrown, withoutStacks)}`
  } catch {
    // A getter that throws, a BigInt, a cycle, a symbol name: say so rather than fail the reading.
    return 'threw a value that cannot be shown'
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A short quote of something a check returned, for an output: redacted, then cut to 64
 * characters (a cut first could take away what a rule needs to see, as the `@` after a URL's
 * password, and leave the password).
 */
const quoteOf = (text: string): string => truncate(redact(text), 64)
/** A bad value as quoteOf() its JSON (it came from JSON). */
const describeValue = (value: unknown): string => quoteOf(JSON.stringify(value))

const kindOf = (value: unknown): string => value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value

/** What is wrong with the value of a field that must be a string (numbers and booleans are made one). */
const textProblem = (field: string, value: unknown): string | undefined =>
  value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? undefined
    : `${field} is ${kindOf(value)}, not a string`

/**
 * A string field's value as kept: a number or a boolean as text, a string redacted (whoever wrote
 * the check, no credential it quotes reaches an answer or a log line).
 */
const textOf = (value: unknown): string => typeof value === 'string' ? redact(value) : String(value)

/** What is wrong with one component detail, or undefined; fixes what can be fixed in place. */
function repairEntry (entry: Record<string, unknown>, time: string): string | undefined {
  if (entry.status === undefined) {
    entry.status = Status.PASS
  } else {
    const key = typeof entry.status === 'string' ? entry.status.trim().toLowerCase() : undefined
    // Own keys only: "constructor" is no status word, whatever Object.prototype says.
    const word = key !== undefined && Object.hasOwn(statusWords, key) ? statusWords[key] : undefined
    if (word === undefined) return `unknown status ${JSON.stringify(entry.status)}`
    entry.status = word
  }
  // Each field by its name, not in a loop over the names: a load or a store by a key held in a
  // variable is megamorphic across the shapes checks return, and cost more than the rest of the
  // repair (bench/README.md).
  const { componentId, componentType, observedUnit, output } = entry
  const problem = textProblem('componentId', componentId) ?? textProblem('componentType', componentType) ??
    textProblem('observedUnit', observedUnit) ?? textProblem('output', output)
  if (problem !== undefined) return problem
  if (componentId !== undefined) entry.componentId = textOf(componentId)
  if (componentType !== undefined) entry.componentType = textOf(componentType)
  if (observedUnit !== undefined) entry.observedUnit = textOf(observedUnit)
  if (output !== undefined) entry.output = truncate(textOf(output))
  if (typeof entry.observedValue === 'string') entry.observedValue = redact(entry.observedValue)
  if (entry.time === undefined) {
    entry.time = time
  } else {
    const normalized = normalizeDateTime(entry.time)
    if (normalized === undefined) return `time ${describeValue(entry.time)} is not an ISO 8601 date-time`
    entry.time = normalized
  }
  const endpoints = entry.affectedEndpoints
  if (endpoints !== undefined) {
    if (!Array.isArray(endpoints)) return `affectedEndpoints is ${kindOf(endpoints)}, not an array of URI templates`
    const bad = endpoints.find((endpoint) => !isUriTemplate(endpoint))
    if (bad !== undefined) return `affectedEndpoints has ${describeValue(bad)}, not a URI template`
  }
  const links = entry.links
  if (links !== undefined) {
    if (!isPlainObject(links)) return `links is ${kindOf(links)}, not an object of URIs`
    const badKey = Object.keys(links).find((rel) => !isLinkRelation(rel))
    if (badKey !== undefined) return `links has the key "${quoteOf(badKey)}", which is neither a registered relation name nor a URI`
    const bad = Object.keys(links).find((rel) => !isUri(links[rel]))
    if (bad !== undefined) return `links has "${quoteOf(bad)}" set to ${describeValue(links[bad])}, not a URI`
    for (const rel of Object.keys(links)) links[rel] = redact(links[rel] as string)
  }
  return undefined
}

/** The most characters JSON writes for `text`: every character escaped as `\\uXXXX`, and the quotes. */
const jsonBound = (text: string): number => 6 * text.length + 2

/**
 * Adds to `copies` a copy of `node` as a JSON round trip would make it, when that is plain to see:
 * a plain object whose values are strings, finite numbers but -0, booleans, null or undefined
 * (left out, as JSON does). Returns the most characters its JSON may take, or -1, adding nothing,
 * for anything else (a nested value, a class, a Date, NaN, -0, `__proto__`, a getter that
 * throws): that takes the round trip. Most checks return such an object, and the round trip
 * costs more than the rest of the reading.
 */
function flatCopy (node: unknown, copies: unknown[]): number {
  if (typeof node !== 'object' || node === null) return -1
  let copy: Record<string, unknown>
  try {
    const prototype = Object.getPrototypeOf(node)
    if (prototype !== Object.prototype && prototype !== null) return -1
    // Assigning `__proto__` would set the copy's prototype, where JSON.parse makes an own key.
    if (Object.hasOwn(node, '__proto__')) return -1
    // Object.assign copies a plain object's own enumerable properties by its shape, each getter
    // run once. A copy key by key was megamorphic across checks, and an object spread is many
    // times slower in a function with a try block on Node.js 20 (bench/README.md).
    copy = Object.assign({}, node) as Record<string, unknown>
  } catch {
    return -1
  }
  // The braces and a comma after it, then per key its quoted name, a colon and a comma.
  let bound = 3
  // for-in reads the copy's keys from its shape, with no array made. A key inherited from a
  // polluted Object.prototype is looked at too: it can only raise the bound, or send the copy to
  // the round trip.
  for (const key in copy) {
    const value = copy[key]
    if (typeof value === 'string') bound += jsonBound(value)
    // A finite number is at most 24 characters as JSON. -0, written 0, takes the round trip.
    else if (typeof value === 'number' && Number.isFinite(value) && (value !== 0 || 1 / value > 0)) bound += 24
    else if (typeof value === 'boolean' || value === null) bound += 5
    else if (value !== undefined) return -1
    else {
      // Left out, as JSON leaves it out (rare enough that the slower shape a delete leaves is no matter).
      delete copy[key]
      continue
    }
    bound += jsonBound(key) + 2
  }
  copies.push(copy)
  return bound
}

/** Plain data from the nodes, each as a JSON round trip would give it; a reason when there is none. */
function plainCopies (nodes: unknown[]): unknown[] | string {
  const copies: unknown[] = []
  // The brackets of the array.
  let bound = 2
  for (const node of nodes) {
    const size = flatCopy(node, copies)
    if (size === -1) break
    bound += size
  }
  if (copies.length === nodes.length && bound <= MAX_RESULT_BYTES) return copies
  let json: string | undefined
  try {
    // A JSON round trip gives plain data: no cycles, no functions, no getters that run later.
    json = JSON.stringify(nodes)
  } catch (error) {
    return `Invalid check result: not serializable as JSON (${describeThrown(error)})`
  }
  if (json.length > MAX_RESULT_BYTES) return `Invalid check result: larger than ${MAX_RESULT_BYTES} bytes as JSON`
  // Dates are ISO strings by now, as `time` wants them.
  return JSON.parse(json)
}

/**
 * Turns whatever a check returned into valid component details: nothing means pass, one object
 * means one node, an array means one node each. Anything that cannot be made valid becomes a
 * single `fail` entry saying what was wrong.
 */
export function normalizeResult (result: unknown, time: string): ReadingEntry[] {
  if (result === undefined || result === null) return [{ status: Status.PASS, time }]
  const nodes = Array.isArray(result) ? result : [result]
  if (nodes.length === 0) return [failedEntry('Invalid check result: an empty array (no nodes)', time)]
  if (nodes.length > MAX_NODES) return [failedEntry(`Invalid check result: more than ${MAX_NODES} nodes`, time)]
  const copies = plainCopies(nodes)
  if (typeof copies === 'string') return [failedEntry(copies, time)]
  // Repaired in place: the copies are the entries.
  for (let i = 0; i < copies.length; i++) {
    const copy = copies[i]
    if (!isPlainObject(copy)) {
      return [failedEntry(`Invalid check result: got ${kindOf(nodes[i])}, expected a component detail object`, time)]
    }
    const problem = repairEntry(copy, time)
    if (problem !== undefined) return [failedEntry(`Invalid check result: ${problem}`, time)]
  }
  return copies as ReadingEntry[]
}
