/**
 * A min-heap of (time, client) pairs on typed arrays: the fleet model pops
 * millions of contacts, and objects per entry would dominate its time and
 * memory. Equal times pop in insertion order (a sequence number breaks ties),
 * so a run repeats exactly.
 */
export class EventHeap {
  #time: Float64Array;
  #seq: Float64Array;
  #client: Int32Array;
  #size = 0;
  #next = 0;

  constructor(capacity: number) {
    this.#time = new Float64Array(Math.max(16, capacity));
    this.#seq = new Float64Array(this.#time.length);
    this.#client = new Int32Array(this.#time.length);
  }

  get size(): number {
    return this.#size;
  }

  /** Time of the earliest entry (Infinity when empty). */
  peekTime(): number {
    return this.#size > 0 ? this.#time[0]! : Number.POSITIVE_INFINITY;
  }

  push(time: number, client: number): void {
    if (this.#size === this.#time.length) this.#grow();
    let i = this.#size++;
    const seq = this.#next++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(time, seq, parent)) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#time[i] = time;
    this.#seq[i] = seq;
    this.#client[i] = client;
  }

  /** Removes the earliest entry and returns its client (call peekTime first for its time). */
  pop(): number {
    const top = this.#client[0]!;
    const last = --this.#size;
    const time = this.#time[last]!;
    const seq = this.#seq[last]!;
    const client = this.#client[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.#lessAt(right, left) ? right : left;
      if (!this.#less(this.#time[child]!, this.#seq[child]!, i, time, seq)) break;
      this.#move(child, i);
      i = child;
    }
    this.#time[i] = time;
    this.#seq[i] = seq;
    this.#client[i] = client;
    return top;
  }

  #less(time: number, seq: number, at: number, otherTime = this.#time[at]!, otherSeq = this.#seq[at]!): boolean {
    return time < otherTime || (time === otherTime && seq < otherSeq);
  }

  #lessAt(a: number, b: number): boolean {
    return this.#less(this.#time[a]!, this.#seq[a]!, b);
  }

  #move(from: number, to: number): void {
    this.#time[to] = this.#time[from]!;
    this.#seq[to] = this.#seq[from]!;
    this.#client[to] = this.#client[from]!;
  }

  #grow(): void {
    const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.#time = grow(this.#time, (n) => new Float64Array(n));
    this.#seq = grow(this.#seq, (n) => new Float64Array(n));
    this.#client = grow(this.#client, (n) => new Int32Array(n));
  }
}
