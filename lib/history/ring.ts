// A ring of fixed-width records kept as columns (a struct of typed arrays): the columns start
// small and double up to `size`, then the oldest record is written over. Pushing a record is O(1)
// and allocates only when the columns grow (log2(size) times in a ring's life).

type Column = Float64Array | Float32Array | Uint8Array
type ColumnType = new (length: number) => Column

/** The column types of a ring, by name: `{ at: Float64Array, status: Uint8Array }`. */
type ColumnTypes = Record<string, ColumnType>
type Columns<T extends ColumnTypes> = { [K in keyof T]: InstanceType<T[K]> }

const defaults = {
  /** Records the columns hold at first: most checks of a short-lived instance never need more. */
  initial: 16
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
      this.#grow(Math.min(this.size, capacity * 2))
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

function allocate<T extends ColumnTypes> (types: T, length: number): Columns<T> {
  const columns: Partial<Columns<T>> = {}
  for (const name in types) columns[name] = new types[name](length) as InstanceType<T[typeof name]>
  return columns as Columns<T>
}
