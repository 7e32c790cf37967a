import { MulletError } from '../core/errors.js';

/** Bits per page: 8,192 intervals (85 days of 15-min, 341 days of hourly, 22 years of daily) in 1 KiB. */
const PAGE_BITS = 8192;
const PAGE_WORDS = PAGE_BITS / 32;
export const INTERVAL_PAGE_BYTES = PAGE_WORDS * 4;

/** Pages shared by the sets of one import: caps the memory of a file whose series span absurd time ranges. */
export class PageBudget {
  used = 0;
  constructor(
    readonly maxPages: number,
    private readonly where: string,
  ) {}

  take(): void {
    if (++this.used > this.maxPages) {
      throw new MulletError(
        'BAD_INPUT',
        `the file's series span too many intervals to track at once (more than ${Math.round((this.maxPages * INTERVAL_PAGE_BYTES) / 2 ** 20)} MiB of 1-bit-per-interval maps); split it by time or settlement point`,
        { where: this.where },
      );
    }
  }
}

/**
 * The interval indices (start / interval length) one file has written to one series: a sparse
 * bitmap, one bit per interval of the time SPANNED, in 1 KiB pages allocated on first use. This is
 * what lets an import stream: duplicates across batches, the file's gaps and its span are known
 * without keeping its rows (a year of 15-min data is 4.3 KiB, whatever the file's size).
 */
export class IntervalSet {
  private readonly pages = new Map<number, Uint32Array>();
  private lastPageIndex = Number.NaN;
  private lastPage: Uint32Array | undefined;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(private readonly budget: PageBudget) {}

  has(i: number): boolean {
    const page = this.page(Math.floor(i / PAGE_BITS), false);
    if (!page) return false;
    const bit = i - Math.floor(i / PAGE_BITS) * PAGE_BITS;
    return ((page[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /** Adds `i`; true when it was not there yet. */
  add(i: number): boolean {
    const pageIndex = Math.floor(i / PAGE_BITS);
    const page = this.page(pageIndex, true) as Uint32Array;
    const bit = i - pageIndex * PAGE_BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const w = page[word] as number;
    if ((w & mask) !== 0) return false;
    page[word] = w | mask;
    this.count++;
    if (i < this.min) this.min = i;
    if (i > this.max) this.max = i;
    return true;
  }

  private page(index: number, create: boolean): Uint32Array | undefined {
    if (index === this.lastPageIndex) return this.lastPage;
    let page = this.pages.get(index);
    if (!page) {
      if (!create) return undefined;
      this.budget.take();
      page = new Uint32Array(PAGE_WORDS);
      this.pages.set(index, page);
    }
    this.lastPageIndex = index;
    this.lastPage = page;
    return page;
  }

  /** Page indices in ascending order. */
  pageIndices(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  pageAt(index: number): Uint32Array | undefined {
    return this.pages.get(index);
  }
}

/**
 * Runs of missing indices between the first and last index present in ANY of `sets` (their union),
 * in ascending order: `fn(from, to)` with both ends inclusive.
 */
export function forEachUnionGap(sets: readonly IntervalSet[], fn: (from: number, to: number) => void): void {
  const indices = [...new Set(sets.flatMap((s) => s.pageIndices()))].sort((a, b) => a - b);
  let prev = Number.NaN;
  const union = new Uint32Array(PAGE_WORDS);
  for (const p of indices) {
    union.fill(0);
    for (const s of sets) {
      const page = s.pageAt(p);
      if (!page) continue;
      for (let w = 0; w < PAGE_WORDS; w++) union[w] = (union[w] as number) | (page[w] as number);
    }
    for (let w = 0; w < PAGE_WORDS; w++) {
      let word = union[w] as number;
      while (word !== 0) {
        const low = word & -word;
        const i = p * PAGE_BITS + w * 32 + (31 - Math.clz32(low));
        if (i - prev > 1) fn(prev + 1, i - 1);
        prev = i;
        word ^= low;
      }
    }
  }
}
