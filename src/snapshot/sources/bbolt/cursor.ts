import { branchElements, leafElements, type LeafElement, type NodeView } from './elements.js';
import { BUCKET_HEADER_SIZE, PAGE_HEADER_SIZE, PageFlag, pageKind, readPageHeader } from './format.js';
import type { Fail, PageStore } from './page-store.js';
import { PageSet } from './page-set.js';

/** A bucket found in its parent: its root page, or its inline page (root 0). */
export interface BucketRef {
  /** For messages: the bucket's name, nested names joined by '/'. */
  name: string;
  root: number;
  /** The bucket's value in its parent (header + inline page) when the bucket is inline. */
  inline: Buffer | undefined;
}

/** No B+tree over 2^53 pages gets near this; a deeper walk means pages point in a cycle. */
const MAX_DEPTH = 64;

/** A key for an error message: as text when printable, else hex; long keys shortened. */
export function describeKey(key: Buffer): string {
  const printable = key.every((b) => b >= 0x20 && b < 0x7f);
  const text = printable ? `'${key.toString('latin1')}'` : `0x${key.toString('hex')}`;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function bucketRef(name: string, value: Buffer, pageCount: number, fail: Fail): BucketRef {
  if (value.length < BUCKET_HEADER_SIZE) fail(`bucket '${name}' has a ${value.length}-byte header, expected ${BUCKET_HEADER_SIZE}`);
  const root = value.readBigUInt64LE(0);
  if (root === 0n) {
    if (value.length < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE) fail(`bucket '${name}' is inline but its page is missing`);
    // A copy: the page store reuses its blocks, and the ref may be walked long after.
    return { name, root: 0, inline: Buffer.from(value) };
  }
  if (root < 2n || root >= BigInt(pageCount)) {
    fail(`bucket '${name}' has its root at page ${root}, outside the data pages 2..${pageCount - 1}`);
  }
  return { name, root: Number(root), inline: undefined };
}

/**
 * Walks buckets in key order, checking as it goes what a reader can check: page kinds, element
 * bounds, keys strictly increasing and inside the range their branch entry promises, every
 * page reached at most once (no cycles, no shared pages), and the tree depth.
 */
export class BucketWalker {
  constructor(
    private readonly store: PageStore,
    private readonly fail: Fail,
  ) {}

  /** `claimed` collects the pages walked; a page met twice, here or in an earlier walk sharing the set, is damage. */
  async *entries(bucket: BucketRef, claimed = new PageSet(this.store.pageCount)): AsyncGenerator<LeafElement> {
    for await (const leaf of this.leaves(bucket, claimed)) yield* leaf;
  }

  /**
   * The bucket's entries a leaf at a time, in key order (see entries). A walk of millions of
   * records spent more on a promise per entry per generator than on reading them.
   */
  async *leaves(bucket: BucketRef, claimed = new PageSet(this.store.pageCount)): AsyncGenerator<LeafElement[]> {
    let last: Buffer | undefined;
    const inOrder = (elements: LeafElement[], node: NodeView): void => {
      for (const { key } of elements) {
        if (last !== undefined && Buffer.compare(key, last) <= 0) {
          this.fail(`bucket '${bucket.name}': key ${describeKey(key)} in ${node.where} does not sort after ${describeKey(last)}`);
        }
        last = key;
      }
    };
    if (bucket.inline !== undefined) {
      const node = this.inlineNode(bucket, bucket.inline);
      const elements = leafElements(node, this.fail);
      inOrder(elements, node);
      yield elements;
      return;
    }
    // Depth first with a stack of the branches on the current path: a recursive generator handed
    // each leaf up through every level, a promise per level per leaf.
    const path: Array<{ children: Array<{ key: Buffer; child: number }>; next: number; upper: Buffer | undefined }> = [];
    let at: { id: number; lower: Buffer | undefined; upper: Buffer | undefined } | undefined = { id: bucket.root, lower: undefined, upper: undefined };
    while (at !== undefined) {
      const { id, lower, upper } = at;
      const depth = path.length;
      const node = await this.node(bucket, id, depth, claimed);
      const inRange = (key: Buffer): void => {
        if ((lower !== undefined && Buffer.compare(key, lower) < 0) || (upper !== undefined && Buffer.compare(key, upper) >= 0)) {
          this.fail(`bucket '${bucket.name}': key ${describeKey(key)} in ${node.where} lies outside the key range its parent branch gives it`);
        }
      };
      if (node.flags === PageFlag.leaf) {
        if (node.count === 0 && depth > 0) this.fail(`${node.where} of bucket '${bucket.name}' is an empty leaf below the root`);
        const elements = leafElements(node, this.fail);
        for (const element of elements) inRange(element.key);
        inOrder(elements, node);
        yield elements;
      } else {
        // Copied keys: the subtrees below read many blocks, and the page store reuses old ones.
        const children = branchElements(node, this.fail).map((c) => ({ key: Buffer.from(c.key), child: c.child }));
        if (children.length === 0) this.fail(`${node.where} of bucket '${bucket.name}' is a branch page without elements`);
        for (let i = 0; i < children.length; i++) {
          const key = children[i]!.key;
          const next = children[i + 1]?.key ?? upper;
          inRange(key);
          if (next !== undefined && Buffer.compare(key, next) >= 0) {
            this.fail(`bucket '${bucket.name}': branch keys in ${node.where} are out of order at element ${i}`);
          }
        }
        path.push({ children, next: 0, upper });
      }
      at = undefined;
      while (at === undefined && path.length > 0) {
        const branch = path.at(-1)!;
        const child = branch.children[branch.next];
        if (child === undefined) {
          path.pop();
          continue;
        }
        branch.next++;
        at = { id: child.child, lower: child.key, upper: branch.children[branch.next]?.key ?? branch.upper };
      }
    }
  }

  /** The bucket's last entry, by the rightmost path only. */
  async lastEntry(bucket: BucketRef): Promise<LeafElement | undefined> {
    if (bucket.inline !== undefined) return leafElements(this.inlineNode(bucket, bucket.inline), this.fail).at(-1);
    const visited = new PageSet(this.store.pageCount);
    let depth = 0;
    let node = await this.node(bucket, bucket.root, depth, visited);
    while (node.flags === PageFlag.branch) {
      const rightmost = branchElements(node, this.fail).at(-1);
      if (rightmost === undefined) this.fail(`${node.where} of bucket '${bucket.name}' is a branch page without elements`);
      depth++;
      node = await this.node(bucket, rightmost.child, depth, visited);
    }
    const last = leafElements(node, this.fail).at(-1);
    if (last === undefined && depth > 0) this.fail(`${node.where} of bucket '${bucket.name}' is an empty leaf below the root`);
    return last;
  }

  private inlineNode(bucket: BucketRef, value: Buffer): NodeView {
    const header = readPageHeader(value, BUCKET_HEADER_SIZE);
    const where = `the inline page of bucket '${bucket.name}'`;
    if (header.flags !== PageFlag.leaf) this.fail(`${where} is a ${pageKind(header.flags)} page, expected a leaf page`);
    return { where, flags: header.flags, count: header.count, buf: value, base: BUCKET_HEADER_SIZE, fit: { inline: true } };
  }

  private async node(bucket: BucketRef, id: number, depth: number, visited: PageSet): Promise<NodeView> {
    if (depth > MAX_DEPTH) this.fail(`bucket '${bucket.name}' is deeper than ${MAX_DEPTH} levels at page ${id}: its pages form a cycle`);
    if (id < 2) this.fail(`bucket '${bucket.name}' points to page ${id}, a meta page`);
    const page = await this.store.page(id);
    for (let p = id; p <= id + page.header.overflow; p++) {
      if (visited.has(p)) this.fail(`bucket '${bucket.name}' reaches page ${p} twice`);
      visited.add(p);
    }
    const { flags, count } = page.header;
    if (flags !== PageFlag.branch && flags !== PageFlag.leaf) {
      this.fail(`page ${id} of bucket '${bucket.name}' is a ${pageKind(flags)} page, expected a branch or leaf page`);
    }
    return { where: `page ${id}`, flags, count, buf: page.buf, base: 0, fit: { pageSize: this.store.pageSize } };
  }
}
