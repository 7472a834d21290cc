/**
 * The set of linearized operations and the cache of visited (set, state) configurations.
 *
 * Porcupine keeps a full bitset per cache entry, which costs n/8 bytes per entry and makes long
 * histories run out of memory. We store each set in a canonical *windowed* form instead.
 * Operations are numbered so that `ok` ones come first, in invocation order, and `info` ones
 * after them. During the search every linearized `ok` op was invoked before the earliest return
 * still pending, so the linearized `ok` ops are "everything below `floor`" (the first op not yet
 * linearized) plus a few bits up to `hi` (the highest linearized `ok` op): only the words between
 * them are stored. `info` ops are stored as the words between the lowest and highest linearized
 * one. Entries live in flat typed arrays (no object per entry), chained by a 32-bit hash of the
 * set (Zobrist, updated in O(1) per step) mixed with the model state's hash when it has one.
 */

/** The linearized set, with its canonical window bounds and incremental hash. */
export class LinearizedSet {
  readonly bits: Uint32Array;
  /** Number of `ok` ops; their ids are 0..okCount-1, `info` ids start at {@link infoBase}. */
  readonly okCount: number;
  readonly infoBase: number;
  readonly #zobrist: Int32Array;
  /** The lowest `ok` id not linearized (okCount when all are). */
  floor = 0;
  /** The highest linearized `ok` id, or -1. */
  hi = -1;
  /** The lowest and highest linearized `info` ids, or -1. */
  infoLo = -1;
  infoHi = -1;
  hash = 0;

  constructor(okCount: number, infoCount: number, seed = 0x9e3779b9) {
    this.okCount = okCount;
    this.infoBase = Math.ceil(okCount / 32) * 32;
    const size = this.infoBase + infoCount;
    this.bits = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
    this.#zobrist = new Int32Array(size);
    let x = seed | 0 || 1;
    for (let i = 0; i < size; i++) {
      // xorshift32: deterministic, well spread
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.#zobrist[i] = x;
    }
  }

  /** The bit id of the i-th `info` op. */
  infoId(i: number): number {
    return this.infoBase + i;
  }

  has(id: number): boolean {
    return ((this.bits[id >>> 5] as number) & (1 << (id & 31))) !== 0;
  }

  /** Adds `id`, updating the window bounds and the hash. The caller saves the bounds to undo. */
  add(id: number): void {
    this.bits[id >>> 5] = (this.bits[id >>> 5] as number) | (1 << (id & 31));
    this.hash ^= this.#zobrist[id] as number;
    if (id < this.okCount) {
      if (id > this.hi) this.hi = id;
      if (id === this.floor) {
        let f = id + 1;
        while (f < this.okCount && this.has(f)) f++;
        this.floor = f;
      }
    } else {
      if (this.infoLo === -1 || id < this.infoLo) this.infoLo = id;
      if (id > this.infoHi) this.infoHi = id;
    }
  }

  /** Removes `id` and restores the bounds saved before it was added. */
  remove(id: number, floor: number, hi: number, infoLo: number, infoHi: number): void {
    this.bits[id >>> 5] = (this.bits[id >>> 5] as number) & ~(1 << (id & 31));
    this.hash ^= this.#zobrist[id] as number;
    this.floor = floor;
    this.hi = hi;
    this.infoLo = infoLo;
    this.infoHi = infoHi;
  }
}

function growInt32(a: Int32Array<ArrayBuffer>, min: number): Int32Array<ArrayBuffer> {
  let size = a.length * 2;
  while (size < min) size *= 2;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** The cache of visited configurations: (linearized set, model state) pairs. */
export class VisitedCache<S> {
  readonly #equal: (a: S, b: S) => boolean;
  #buckets = new Int32Array(1 << 12).fill(-1);
  #mask = (1 << 12) - 1;
  #hash = new Int32Array(1 << 12);
  #next = new Int32Array(1 << 12);
  /** Per entry: floor, hi, infoLo, infoHi, word offset. */
  #meta = new Int32Array(5 << 12);
  #words = new Uint32Array(1 << 14);
  #wordsUsed = 0;
  readonly #states: S[] = [];
  #count = 0;

  constructor(equal: (a: S, b: S) => boolean) {
    this.#equal = equal;
  }

  /** Number of entries. */
  get size(): number {
    return this.#count;
  }

  /** Approximate bytes held by the cache's arrays. */
  get bytes(): number {
    return this.#buckets.byteLength + this.#hash.byteLength * 2 + this.#meta.byteLength + this.#words.byteLength + this.#states.length * 8;
  }

  /**
   * Adds (set, state) unless it is already present. Returns true when it was added, i.e. this
   * configuration has not been explored before.
   */
  addIfAbsent(set: LinearizedSet, state: S, stateHash: number): boolean {
    const h = (set.hash ^ Math.imul(stateHash, 0x9e3779b1)) | 0;
    const { floor, hi, infoLo, infoHi, bits } = set;
    const okLo = floor >>> 5;
    const okN = hi >= floor ? (hi >>> 5) - okLo + 1 : 0;
    const inLo = infoLo >>> 5;
    const inN = infoLo >= 0 ? (infoHi >>> 5) - inLo + 1 : 0;
    const meta = this.#meta;
    const words = this.#words;
    for (let e = this.#buckets[h & this.#mask] as number; e !== -1; e = this.#next[e] as number) {
      if (this.#hash[e] !== h) continue;
      const m = e * 5;
      if (meta[m] !== floor || meta[m + 1] !== hi || meta[m + 2] !== infoLo || meta[m + 3] !== infoHi) continue;
      let off = meta[m + 4] as number;
      let same = true;
      for (let i = 0; i < okN && same; i++) same = words[off++] === bits[okLo + i];
      for (let i = 0; i < inN && same; i++) same = words[off++] === bits[inLo + i];
      if (same && this.#equal(this.#states[e] as S, state)) return false;
    }
    this.#insert(h, set, okLo, okN, inLo, inN, state);
    return true;
  }

  #insert(h: number, set: LinearizedSet, okLo: number, okN: number, inLo: number, inN: number, state: S): void {
    const e = this.#count++;
    if (e >= this.#hash.length) {
      this.#hash = growInt32(this.#hash, e + 1);
      this.#next = growInt32(this.#next, e + 1);
      this.#meta = growInt32(this.#meta, (e + 1) * 5);
    }
    if (this.#wordsUsed + okN + inN > this.#words.length) {
      let size = this.#words.length * 2;
      while (size < this.#wordsUsed + okN + inN) size *= 2;
      const w = new Uint32Array(size);
      w.set(this.#words);
      this.#words = w;
    }
    const m = e * 5;
    this.#meta[m] = set.floor;
    this.#meta[m + 1] = set.hi;
    this.#meta[m + 2] = set.infoLo;
    this.#meta[m + 3] = set.infoHi;
    this.#meta[m + 4] = this.#wordsUsed;
    const words = this.#words;
    const bits = set.bits;
    for (let i = 0; i < okN; i++) words[this.#wordsUsed++] = bits[okLo + i] as number;
    for (let i = 0; i < inN; i++) words[this.#wordsUsed++] = bits[inLo + i] as number;
    this.#states.push(state);
    this.#hash[e] = h;
    if (e >= this.#buckets.length * 0.75) this.#rehash();
    const b = h & this.#mask;
    this.#next[e] = this.#buckets[b] as number;
    this.#buckets[b] = e;
  }

  #rehash(): void {
    const size = this.#buckets.length * 2;
    this.#buckets = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
    // Re-chain every entry except the newest, which the caller links itself.
    for (let e = 0; e < this.#count - 1; e++) {
      const b = (this.#hash[e] as number) & this.#mask;
      this.#next[e] = this.#buckets[b] as number;
      this.#buckets[b] = e;
    }
  }
}
