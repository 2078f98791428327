import { readdir } from 'node:fs/promises';

/** A segment file `%016x-%016x.wal`: its sequence number and the index of the first entry it was cut for. */
export interface SegmentName {
  seq: number;
  firstIndex: number;
  file: string;
}

const pattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${firstIndex.toString(16).padStart(16, '0')}.wal`;
}

export function parseSegmentName(file: string): SegmentName | undefined {
  const match = pattern.exec(file);
  if (match === null) return undefined;
  const seq = Number.parseInt(match[1]!, 16);
  const firstIndex = Number.parseInt(match[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, file };
}

/** The segments in `dir`, in sequence order; other files are ignored. */
export async function listSegments(dir: string): Promise<SegmentName[]> {
  const names = (await readdir(dir)).map(parseSegmentName).filter((s): s is SegmentName => s !== undefined);
  return names.sort((a, b) => a.seq - b.seq);
}
