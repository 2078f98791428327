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

function slice(node: NodeView, element: number, from: number, length: number, what: string, min: number, fail: Fail): Buffer {
  if (from < min || from + length > node.buf.length) {
    fail(`${node.where} element ${element}: ${what} at bytes ${from - node.base}..${from - node.base + length} lies outside the node`);
  }
  return node.buf.subarray(from, from + length);
}

export function branchElements(node: NodeView, fail: Fail): BranchElement[] {
  const min = dataStart(node, fail);
  const out: BranchElement[] = [];
  for (let i = 0; i < node.count; i++) {
    const at = node.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const pos = node.buf.readUInt32LE(at);
    const ksize = node.buf.readUInt32LE(at + 4);
    const child = node.buf.readBigUInt64LE(at + 8);
    if (ksize === 0) fail(`${node.where} element ${i} has an empty key`);
    if (child > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${node.where} element ${i} points to page ${child}, outside the database`);
    out.push({ key: slice(node, i, at + pos, ksize, 'the key', min, fail), child: Number(child) });
  }
  return out;
}

export function leafElements(node: NodeView, fail: Fail): LeafElement[] {
  const min = dataStart(node, fail);
  const out: LeafElement[] = [];
  for (let i = 0; i < node.count; i++) {
    const at = node.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const flags = node.buf.readUInt32LE(at);
    const pos = node.buf.readUInt32LE(at + 4);
    const ksize = node.buf.readUInt32LE(at + 8);
    const vsize = node.buf.readUInt32LE(at + 12);
    if (flags !== 0 && flags !== BUCKET_LEAF_FLAG) fail(`${node.where} element ${i} has unknown flags 0x${flags.toString(16)}`);
    if (ksize === 0) fail(`${node.where} element ${i} has an empty key`);
    const kv = slice(node, i, at + pos, ksize + vsize, 'the key and value', min, fail);
    out.push({ key: kv.subarray(0, ksize), value: kv.subarray(ksize), isBucket: flags === BUCKET_LEAF_FLAG });
  }
  return out;
}
