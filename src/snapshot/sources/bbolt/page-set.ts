/**
 * A set of page ids below the database's high water mark, one bit per page. A walk marks every
 * page it reaches; as a Set<number> that cost tens of MiB of heap on a 1 GiB database (one
 * entry per 4 KiB page), as bits it costs pageCount / 8 bytes.
 */
export class PageSet {
  private readonly bits: Uint8Array;

  constructor(readonly pageCount: number) {
    this.bits = new Uint8Array(Math.ceil(pageCount / 8));
  }

  /** `id` must lie in 0..pageCount-1 (the page store has checked it). */
  has(id: number): boolean {
    return (this.bits[id >>> 3]! & (1 << (id & 7))) !== 0;
  }

  add(id: number): void {
    this.bits[id >>> 3]! |= 1 << (id & 7);
  }

  /** The ids in the set, ascending. */
  ids(): number[] {
    const out: number[] = [];
    for (let byte = 0; byte < this.bits.length; byte++) {
      const b = this.bits[byte]!;
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) out.push(byte * 8 + bit);
    }
    return out;
  }
}
