import { BUCKET_LEAF_FLAG, ELEMENT_SIZE, PAGE_HEADER_SIZE } from './format.js';
import type { Fail } from './page-store.js';

/** A branch or leaf node: a page on disk, or a bucket's inline page inside its parent's value. */
export interface NodeView {
  /** For messages: "page 12", "the inline page of bucket 'meta'". */
  where: string;
  flags: number;
  count: number;
  /** Bytes the node may use; `base` is where its page header starts. */
  buf: Buffer;
  base: number;
  /**
   * An inline page is exactly as long as its content (its data must end at the buffer's end);
   * a page on disk spans just the pages its content needs, since bbolt allocates
   * ceil(size / pageSize) pages for a node.
   */
  fit: { inline: true } | { pageSize: number };
}

export interface BranchElement {
  key: Buffer;
  child: number;
}

export interface LeafElement {
  key: Buffer;
  value: Buffer;
  isBucket: boolean;
}

/** Where element data may start: after the header and the element array, which must fit. */
function dataStart(node: NodeView, fail: Fail): number {
  const start = node.base + PAGE_HEADER_SIZE + node.count * ELEMENT_SIZE;
  if (start > node.buf.length) fail(`${node.where} claims ${node.count} elements, more than fit in it`);
  return start;
}

/**
 * bbolt writes element data back to back in element order, starting right after the element
 * array (node.write), so each element's data must start exactly where the previous one ended.
 * This catches a damaged count, pos or size that would otherwise shift bytes silently.
 */
class DataCursor {
  private next: number;
  constructor(
    private readonly node: NodeView,
    private readonly fail: Fail,
  ) {
    this.next = dataStart(node, fail);
  }

  take(element: number, from: number, length: number, what: string): Buffer {
    const { node } = this;
    if (from !== this.next) {
      this.fail(`${node.where} element ${element}: ${what} starts at byte ${from - node.base}, expected ${this.next - node.base} (right after the data before it)`);
    }
    if (from + length > node.buf.length) {
      this.fail(`${node.where} element ${element}: ${what} at bytes ${from - node.base}..${from - node.base + length} runs past the end of the node`);
    }
    this.next = from + length;
    return node.buf.subarray(from, from + length);
  }

  end(): void {
    const { node } = this;
    if ('inline' in node.fit) {
      if (this.next !== node.buf.length) this.fail(`${node.where} has ${node.buf.length - this.next} bytes after its last element`);
      return;
    }
    const needed = Math.ceil(this.next / node.fit.pageSize);
    const spans = node.buf.length / node.fit.pageSize;
    if (needed !== spans) this.fail(`${node.where} spans ${spans} pages but its content needs ${needed}`);
  }
}

export function branchElements(node: NodeView, fail: Fail): BranchElement[] {
  const data = new DataCursor(node, fail);
  const out: BranchElement[] = [];
  for (let i = 0; i < node.count; i++) {
    const at = node.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const pos = node.buf.readUInt32LE(at);
    const ksize = node.buf.readUInt32LE(at + 4);
    const child = node.buf.readBigUInt64LE(at + 8);
    if (ksize === 0) fail(`${node.where} element ${i} has an empty key`);
    if (child > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${node.where} element ${i} points to page ${child}, outside the database`);
    out.push({ key: data.take(i, at + pos, ksize, 'the key'), child: Number(child) });
  }
  data.end();
  return out;
}

export function leafElements(node: NodeView, fail: Fail): LeafElement[] {
  const data = new DataCursor(node, fail);
  const out: LeafElement[] = [];
  for (let i = 0; i < node.count; i++) {
    const at = node.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const flags = node.buf.readUInt32LE(at);
    const pos = node.buf.readUInt32LE(at + 4);
    const ksize = node.buf.readUInt32LE(at + 8);
    const vsize = node.buf.readUInt32LE(at + 12);
    if (flags !== 0 && flags !== BUCKET_LEAF_FLAG) fail(`${node.where} element ${i} has unknown flags 0x${flags.toString(16)}`);
    if (ksize === 0) fail(`${node.where} element ${i} has an empty key`);
    const kv = data.take(i, at + pos, ksize + vsize, 'the key and value');
    out.push({ key: kv.subarray(0, ksize), value: kv.subarray(ksize), isBucket: flags === BUCKET_LEAF_FLAG });
  }
  data.end();
  return out;
}
