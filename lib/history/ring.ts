// A ring of fixed-width records kept as columns (a struct of typed arrays over one buffer): the
// columns start small and grow fourfold up to `size`, then the oldest record is written over.
// Pushing a record is O(1) and allocates only when the columns grow (at most log4(size) times in
// a ring's life, one buffer each time: a buffer costs more than the typed arrays over it).

type Column = Float64Array | Float32Array | Uint8Array
interface ColumnType {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): Column
  readonly BYTES_PER_ELEMENT: number
}

/** The column types of a ring, by name: `{ at: Float64Array, status: Uint8Array }`. */
type ColumnTypes = Record<string, ColumnType>
type Columns<T extends ColumnTypes> = { [K in keyof T]: InstanceType<T[K]> }

const defaults = {
  /** Records the columns hold at first: most checks of a short-lived instance never need more. */
  initial: 16,
  /** How many times larger the columns grow when full. */
  growth: 4
}

export class Ring<T extends ColumnTypes> {
  /** The most records it keeps. */
  readonly size: number
  /** The records it holds: up to `size`. */
  length = 0
  /** The columns, indexed by slot (see `slot()`); replaced when they grow. */
  columns: Columns<T>
  readonly #types: T
  #capacity: number
  /** The slot of the oldest record once full (0 before: records fill slots 0, 1, ... in order). */
  #oldest = 0

  constructor (size: number, types: T) {
    this.size = size
    this.#types = types
    this.#capacity = Math.min(size, defaults.initial)
    this.columns = allocate(types, this.#capacity)
  }

  /** How many records the columns can hold now. */
  get allocated (): number {
    return this.#capacity
  }

  /** The slot to write a new record into: a free one, or the oldest record's once full. */
  push (): number {
    const capacity = this.#capacity
    if (this.length < capacity) return this.length++
    if (capacity < this.size) {
      this.#grow(Math.min(this.size, capacity * defaults.growth))
      return this.length++
    }
    const slot = this.#oldest
    this.#oldest = slot + 1 === capacity ? 0 : slot + 1
    return slot
  }

  /** The slot of the `index`-th record, the oldest first (0 <= index < length). */
  slot (index: number): number {
    const at = this.#oldest + index
    return at < this.length ? at : at - this.length
  }

  /** Before it is full, the records are in slots 0 to length - 1: each column copies over as is. */
  #grow (capacity: number): void {
    const grown = allocate(this.#types, capacity)
    for (const name in grown) grown[name].set(this.columns[name])
    this.columns = grown
    this.#capacity = capacity
  }
}

/** Columns of `length` records over one buffer: the widest first, so that each starts aligned. */
function allocate<T extends ColumnTypes> (types: T, length: number): Columns<T> {
  const names = Object.keys(types).sort((a, b) => (types[b] as ColumnType).BYTES_PER_ELEMENT - (types[a] as ColumnType).BYTES_PER_ELEMENT)
  let bytes = 0
  for (const name of names) bytes += (types[name] as ColumnType).BYTES_PER_ELEMENT * length
  const buffer = new ArrayBuffer(bytes)
  const columns: Partial<Columns<T>> = {}
  let offset = 0
  for (const name of names) {
    const Type = types[name] as ColumnType
    columns[name as keyof T] = new Type(buffer, offset, length) as InstanceType<T[keyof T]>
    offset += Type.BYTES_PER_ELEMENT * length
  }
  return columns as Columns<T>
}
