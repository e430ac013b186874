/**
 * A small bounded memo for one call site of one compiled expression: the last few results of a
 * pure function of one large string (WebUtility.UrlDecode, Convert.FromBase64String, a Replace
 * with constant arguments …). A gateway sees the same header text on request after request (the
 * client certificate a front end forwards), each time in a new string of equal content; a hit
 * costs a length check and one comparison of the characters instead of decoding again.
 *
 * It belongs to the compiled expression (the compiler makes one per call site), never to the
 * module, so two gateways in one process share nothing. Bounded in entries and in the size of what
 * it keeps; only successful results are kept (a call that throws throws again next time). A result
 * that is a byte[] is mutable in .NET, so the memo keeps a private copy and every hit returns a
 * fresh copy of it.
 */

/** Inputs shorter than this are cheap to recompute: not worth an entry. */
export const MEMO_MIN_LENGTH = 128;
/** Inputs (and string results) longer than this are not kept, so a memo holds at most ENTRIES × 2 × this. */
export const MEMO_MAX_LENGTH = 16 * 1024;
/** Entries per call site: a few clients alternating still hit; a crowd only misses. */
export const MEMO_ENTRIES = 4;

/**
 * a === b for a kept key a, rejecting most unequal keys of the same length (certificates of one CA
 * share their first lines) by three characters before the full comparison.
 */
function same(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  const n = b.length;
  return a.charCodeAt(n >> 1) === b.charCodeAt(n >> 1) && a.charCodeAt((n * 3) >> 2) === b.charCodeAt((n * 3) >> 2) && a.charCodeAt(n - 1) === b.charCodeAt(n - 1) && a === b;
}

/** What find() returns when no equal key is kept. */
export const MISS: unique symbol = Symbol('memo miss');

export class StringMemo {
  private readonly keys: (string | undefined)[] = new Array<string | undefined>(MEMO_ENTRIES).fill(undefined);
  private readonly values: unknown[] = new Array<unknown>(MEMO_ENTRIES).fill(undefined);
  /** The slot the next miss overwrites (round robin) and the slot that hit or was filled last. */
  private nextSlot = 0;
  private lastSlot = 0;
  hits = 0;
  misses = 0;

  /** Whether `key` is a string the memo would keep (long enough to be worth it, short enough to hold). */
  static fits(key: unknown): key is string {
    return typeof key === 'string' && key.length >= MEMO_MIN_LENGTH && key.length <= MEMO_MAX_LENGTH;
  }

  /**
   * The result kept for a key equal to `key`, or MISS. A byte[] result comes back as a fresh copy.
   * Call only with keys for which `fits` is true.
   */
  find(key: string): unknown {
    const keys = this.keys;
    let i = this.lastSlot;
    if (!same(keys[i], key)) {
      i = -1;
      for (let k = 0; k < MEMO_ENTRIES; k++) {
        if (same(keys[k], key)) {
          i = k;
          break;
        }
      }
      if (i < 0) {
        this.misses++;
        return MISS;
      }
    }
    this.hits++;
    this.lastSlot = i;
    const v = this.values[i];
    return v instanceof Uint8Array ? Buffer.from(v) : v;
  }

  /**
   * Keeps what a pure function (its answer depends only on the key's content) returned for `key`
   * after find() missed: a string, or a byte[] (a private copy is kept). Anything else, or a result
   * longer than MEMO_MAX_LENGTH, is not kept.
   */
  keep(key: string, value: unknown): void {
    let kept: unknown;
    if (typeof value === 'string') kept = value.length <= MEMO_MAX_LENGTH ? value : undefined;
    else if (value instanceof Uint8Array) kept = value.byteLength <= MEMO_MAX_LENGTH ? Buffer.from(value) : undefined;
    if (kept === undefined) return;
    const slot = this.nextSlot;
    this.keys[slot] = key;
    this.values[slot] = kept;
    this.lastSlot = slot;
    this.nextSlot = (slot + 1) % MEMO_ENTRIES;
  }
}
