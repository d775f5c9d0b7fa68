import type { CheckRun } from '../engine/types.js'
import { emptyRow, type ReadingRow, rowOf } from './check-rings.js'

// Readings on their way to their checks' rings. With a thousand checks, each reading's ring, its
// view and the row it writes have gone cold in the 100 ms since its check last read: written as
// each reading came, the rows cost a reading more than the check engine did (bench/README.md).
// So readings wait here, in one buffer written in order, and go to their rings together, a few
// rows per ring while its memory is warm: when the buffer is full, and before anything reads the
// history, so that a reader always sees every reading recorded.

const defaults = {
  /** Rows the buffer holds at first; it doubles when full, up to `rows`. */
  initial: 64,
  /** The most readings that wait: a few for each of a thousand checks. */
  rows: 8192
}

/** What a row holds in each of the three arrays. */
const NUMBERS = 3
const CODES = 3
const REFERENCES = 3

/** Readings of checks, each kept by `K` (its check's runner), waiting for `write`. */
export class PendingReadings<K> {
  /** Per row: at, value, durationMs. */
  #numbers = new Float64Array(defaults.initial * NUMBERS)
  /** Per row: status, counted, previous. */
  #codes = new Uint8Array(defaults.initial * CODES)
  /** Per row: the key, the unit, the output. */
  readonly #references: unknown[] = []
  #length = 0
  /** The row being pushed or written: one for all, so that no row is an object of its own. */
  readonly #row = emptyRow()
  readonly #write: (key: K, row: ReadingRow) => void

  constructor (write: (key: K, row: ReadingRow) => void) {
    this.#write = write
  }

  /** How many readings wait. */
  get length (): number {
    return this.#length
  }

  push (key: K, run: CheckRun): void {
    if (this.#length === defaults.rows) this.flush()
    else if (this.#length * NUMBERS === this.#numbers.length) this.#grow()
    const row = rowOf(run, this.#row)
    const index = this.#length++
    const numbers = this.#numbers
    numbers[index * NUMBERS] = row.at
    numbers[index * NUMBERS + 1] = row.value
    numbers[index * NUMBERS + 2] = row.durationMs
    const codes = this.#codes
    codes[index * CODES] = row.status
    codes[index * CODES + 1] = row.counted
    codes[index * CODES + 2] = row.previous
    const references = this.#references
    references[index * REFERENCES] = key
    references[index * REFERENCES + 1] = row.unit
    references[index * REFERENCES + 2] = row.output
  }

  /** Writes every waiting reading, in the order they came, and lets go of them. */
  flush (): void {
    const row = this.#row
    const numbers = this.#numbers
    const codes = this.#codes
    const references = this.#references
    const length = this.#length
    for (let index = 0; index < length; index++) {
      row.at = numbers[index * NUMBERS] as number
      row.value = numbers[index * NUMBERS + 1] as number
      row.durationMs = numbers[index * NUMBERS + 2] as number
      row.status = codes[index * CODES] as number
      row.counted = codes[index * CODES + 1] as number
      row.previous = codes[index * CODES + 2] as number
      row.unit = references[index * REFERENCES + 1] as string | undefined
      row.output = references[index * REFERENCES + 2] as string | undefined
      this.#write(references[index * REFERENCES] as K, row)
    }
    this.#length = 0
    // No reference outlives its row: a removed check's runner is collected with its rings.
    references.fill(undefined, 0, length * REFERENCES)
  }

  #grow (): void {
    const rows = Math.min(defaults.rows, this.#length * 2)
    const numbers = new Float64Array(rows * NUMBERS)
    numbers.set(this.#numbers)
    this.#numbers = numbers
    const codes = new Uint8Array(rows * CODES)
    codes.set(this.#codes)
    this.#codes = codes
  }
}
