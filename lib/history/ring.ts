// A ring of fixed-size records, each a row of bytes in one buffer, read and written through views
// of three widths (f64, f32, u8). A record's fields sit side by side, so writing one touches one
// or two cache lines, where a column per field touched one per field: with a thousand checks,
// each ring has gone cold by the time its check reads again, and those misses cost more than the
// rest of the record. The rows start few and grow fourfold up to `size`, then the oldest record
// is written over. Pushing is O(1) and allocates only when the rows grow (at most log4(size)
// times in a ring's life).
//
// A layout names each field's byte offset in the row; an offset is a multiple of its field's
// width (8 for f64, 4 for f32), so that `(row + offset) >> 3` indexes the f64 view exactly.

const defaults = {
  /** Records the rows hold at first: most checks of a short-lived instance never need more. */
  initial: 16,
  /** How many times larger the rows grow when full. */
  growth: 4
}

export class Ring {
  /** The most records it keeps. */
  readonly size: number
  /** Bytes per record: the row's width, a multiple of 8. */
  readonly stride: number
  /** The records it holds: up to `size`. */
  length = 0
  /** The views over the rows; replaced when they grow. */
  f64: Float64Array
  f32: Float32Array
  u8: Uint8Array
  #capacity: number
  /** The slot of the oldest record once full (0 before: records fill slots 0, 1, ... in order). */
  #oldest = 0

  /** `bytes`: a record's width, rounded up to a multiple of 8. */
  constructor (size: number, bytes: number) {
    this.size = size
    this.stride = Math.ceil(bytes / 8) * 8
    this.#capacity = Math.min(size, defaults.initial)
    const buffer = new ArrayBuffer(this.#capacity * this.stride)
    this.f64 = new Float64Array(buffer)
    this.f32 = new Float32Array(buffer)
    this.u8 = new Uint8Array(buffer)
  }

  /** How many records the rows can hold now. */
  get allocated (): number {
    return this.#capacity
  }

  /** The byte offset of the row to write a new record into: a free one, or the oldest record's once full. */
  push (): number {
    const capacity = this.#capacity
    if (this.length < capacity) return this.length++ * this.stride
    if (capacity < this.size) {
      this.#grow(Math.min(this.size, capacity * defaults.growth))
      return this.length++ * this.stride
    }
    const slot = this.#oldest
    this.#oldest = slot + 1 === capacity ? 0 : slot + 1
    return slot * this.stride
  }

  /** The byte offset of the row of the `index`-th record, the oldest first (0 <= index < length). */
  row (index: number): number {
    const at = this.#oldest + index
    return (at < this.length ? at : at - this.length) * this.stride
  }

  /** Before it is full, the records are in rows 0 to length - 1: the bytes copy over as they are. */
  #grow (capacity: number): void {
    const buffer = new ArrayBuffer(capacity * this.stride)
    const bytes = new Uint8Array(buffer)
    bytes.set(this.u8)
    this.f64 = new Float64Array(buffer)
    this.f32 = new Float32Array(buffer)
    this.u8 = bytes
    this.#capacity = capacity
  }
}
