interface Entry<T> {
  readonly at: number
  readonly item: T
  readonly ticket: number
}

/**
 * The checks of one view ordered by when they next need a look (a run to start, a run to wait
 * for): a binary min-heap, so that a request finds the due ones without visiting the others.
 * Each item has at most one live entry; scheduling it again voids the previous one, which is
 * dropped when it reaches the top.
 */
export class DueQueue<T> {
  readonly #heap: Array<Entry<T>> = []
  /** The ticket of each item's live entry; an entry with another ticket is void. */
  readonly #live = new Map<T, number>()
  #tickets = 0

  /** `item` needs a look at `at` (performance.now() time); Infinity: never, until scheduled again. */
  schedule (item: T, at: number): void {
    if (at === Infinity) {
      this.#live.delete(item)
      return
    }
    const entry = { at, item, ticket: ++this.#tickets }
    this.#live.set(item, entry.ticket)
    const heap = this.#heap
    let index = heap.push(entry) - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if ((heap[parent] as Entry<T>).at <= at) break
      heap[index] = heap[parent] as Entry<T>
      index = parent
    }
    heap[index] = entry
  }

  /** `item` needs no look any more (it was removed). */
  forget (item: T): void {
    this.#live.delete(item)
  }

  /** When the first live entry is due; Infinity when none is. */
  nextAt (): number {
    const heap = this.#heap
    while (heap.length > 0 && this.#live.get((heap[0] as Entry<T>).item) !== (heap[0] as Entry<T>).ticket) this.#pop()
    return heap.length === 0 ? Infinity : (heap[0] as Entry<T>).at
  }

  /** Takes out the first live entry due at `now` or before and returns its item; undefined when none is. */
  takeDue (now: number): T | undefined {
    if (this.nextAt() > now) return undefined
    const { item } = this.#pop()
    this.#live.delete(item)
    return item
  }

  /** Removes and returns the top entry (the heap is not empty). */
  #pop (): Entry<T> {
    const heap = this.#heap
    const top = heap[0] as Entry<T>
    const last = heap.pop() as Entry<T>
    const size = heap.length
    if (size === 0) return top
    let index = 0
    for (;;) {
      const left = 2 * index + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && (heap[right] as Entry<T>).at < (heap[left] as Entry<T>).at ? right : left
      if ((heap[child] as Entry<T>).at >= last.at) break
      heap[index] = heap[child] as Entry<T>
      index = child
    }
    heap[index] = last
    return top
  }
}
