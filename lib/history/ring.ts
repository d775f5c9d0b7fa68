// A ring of fixed-size records, each a row of bytes in one buffer, read and written through one
// DataView. A record's fields sit side by side, so writing one touches one or two cache lines,
// where a column per field touched one per field; and one view, where a view per width (f64, f32,
// u8) touched three objects: with a thousand checks, each ring has gone cold by the time its check
// reads again, and those misses cost more than the rest of the record. The rows start few, enough
// for a short-lived instance, and grow once, straight to `size`, then the oldest record is written
// over. Pushing is O(1) and allocates only when the rows grow, once in a ring's life. (They grew
// fourfold at a time: for the default 3,600 readings, four reallocations, a third more bytes
// zeroed and copied, and a thousand checks growing together in bursts that each set off the
// collector; bench/README.md.)
//
// A layout names each field's byte offset in the row, a multiple of its field's width (8 for a
// float64, 4 for a float32) so that no field straddles two words. Little-endian throughout.

const defaults = {
  /** Records the rows hold at first: most checks of a short-lived instance never need more. */
  initial: 16
}

export class Ring {
  /** The most records it keeps. */
  readonly size: number
  /** Bytes per record: the row's width, a multiple of 8. */
  readonly stride: number
  /** The records it holds: up to `size`. */
  length = 0
  /** The view over the rows; replaced when they grow. */
  view: DataView
  #capacity: number
  /** The slot of the oldest record once full (0 before: records fill slots 0, 1, ... in order). */
  #oldest = 0

  /** `bytes`: a record's width, rounded up to a multiple of 8. */
  constructor (size: number, bytes: number) {
    this.size = size
    this.stride = Math.ceil(bytes / 8) * 8
    this.#capacity = Math.min(size, defaults.initial)
    this.view = new DataView(new ArrayBuffer(this.#capacity * this.stride))
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
      this.#grow()
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

  /** To its whole size. Before it is full, the records are in rows 0 to length - 1: the bytes copy over as they are. */
  #grow (): void {
    const buffer = new ArrayBuffer(this.size * this.stride)
    new Uint8Array(buffer).set(new Uint8Array(this.view.buffer))
    this.view = new DataView(buffer)
    this.#capacity = this.size
  }
}
