/**
 * The checks of one view ordered by when they next need a look (a run to start, a run to wait
 * for): a binary min-heap that knows where each item sits, so that scheduling an item again moves
 * its one entry instead of adding another. Its size is the number of items scheduled, never the
 * number of times they were: memory is bounded by the checks, whatever the readings and requests.
 */
export class DueQueue<T> {
  readonly #items: T[] = []
  readonly #at: number[] = []
  /** Where each item sits in the two arrays above. */
  readonly #index = new Map<T, number>()

  get size (): number {
    return this.#items.length
  }

  /** `item` needs a look at `at` (performance.now() time); Infinity: never, until scheduled again. */
  schedule (item: T, at: number): void {
    if (at === Infinity) {
      this.forget(item)
      return
    }
    const index = this.#index.get(item)
    if (index === undefined) {
      this.#items.push(item)
      this.#at.push(at)
      this.#index.set(item, this.#items.length - 1)
      this.#up(this.#items.length - 1)
      return
    }
    const before = this.#at[index] as number
    this.#at[index] = at
    if (at < before) this.#up(index)
    else this.#down(index)
  }

  /** `item` needs no look any more (it was removed, or is kept fresh in the background). */
  forget (item: T): void {
    const index = this.#index.get(item)
    if (index === undefined) return
    this.#index.delete(item)
    const last = this.#items.length - 1
    const lastItem = this.#items.pop() as T
    const lastAt = this.#at.pop() as number
    if (index === last) return
    // The last entry fills the hole, then finds its place either way.
    this.#place(index, lastItem, lastAt)
    this.#up(index)
    this.#down(this.#index.get(lastItem) as number)
  }

  /** When the first item is due; Infinity when none is scheduled. */
  nextAt (): number {
    return this.#at.length === 0 ? Infinity : this.#at[0] as number
  }

  /** Takes out the first item due at `now` or before and returns it; undefined when none is. */
  takeDue (now: number): T | undefined {
    if (this.nextAt() > now) return undefined
    const item = this.#items[0] as T
    this.forget(item)
    return item
  }

  #place (index: number, item: T, at: number): void {
    this.#items[index] = item
    this.#at[index] = at
    this.#index.set(item, index)
  }

  #up (start: number): void {
    const item = this.#items[start] as T
    const at = this.#at[start] as number
    let index = start
    while (index > 0) {
      const parent = (index - 1) >> 1
      if ((this.#at[parent] as number) <= at) break
      this.#place(index, this.#items[parent] as T, this.#at[parent] as number)
      index = parent
    }
    this.#place(index, item, at)
  }

  #down (start: number): void {
    const size = this.#items.length
    const item = this.#items[start] as T
    const at = this.#at[start] as number
    let index = start
    for (;;) {
      const left = 2 * index + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && (this.#at[right] as number) < (this.#at[left] as number) ? right : left
      if ((this.#at[child] as number) >= at) break
      this.#place(index, this.#items[child] as T, this.#at[child] as number)
      index = child
    }
    this.#place(index, item, at)
  }
}
