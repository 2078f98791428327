import { HashKvHasher, REVISION_KEY_BYTES, writeRevisionKey } from '../api/revision.js';
import { crc32c, crc32cCombine } from '../util/crc32c.js';
import { SpillingU32Log } from '../util/spilling-u32-log.js';
import { HASH_KV_PURPOSE, KeptRevisions, type KeptRevisionsOptions } from './kept-revisions.js';

/**
 * etcd 3.4's HashByRev at the last revision of a history that compaction has already thinned
 * (an archive, or an image whose compaction finished), in one pass over its revisions in order.
 * Every revision above the compact revision counts; one at or below it counts only while Keep
 * holds it (KeptRevisions), so each of those has its CRC and length noted by its number
 * (SpillingU32Log), and the ones still held are joined in order at the end (crc32cCombine).
 * Memory stays bounded whatever the number of keys.
 */
export class LastRevisionHashKv {
  private readonly afterCompaction = new HashKvHasher({ bucketName: false });
  private readonly kept: KeptRevisions;
  /** CRC and length of each put at or below the compact revision, by its number. */
  private readonly keptCrcs: SpillingU32Log;
  private readonly crcAndLength = new Uint32Array(2);
  private readonly revisionKeyBuffer = Buffer.alloc(REVISION_KEY_BYTES + 1);
  /** A put's revision key, one view made once: this runs for every kept revision. */
  private readonly putRevisionKey = this.revisionKeyBuffer.subarray(0, REVISION_KEY_BYTES);

  constructor(
    private readonly compactRevision: number,
    options: KeptRevisionsOptions = {},
  ) {
    this.kept = new KeptRevisions(compactRevision, options);
    this.keptCrcs = new SpillingU32Log({ ...options, width: 2, purpose: options.purpose ?? HASH_KV_PURPOSE });
  }

  /** The next revision: its place, its key-value and its stored bytes (arguments, not an object: one call per record). */
  add(main: number, sub: number, tombstone: boolean, kv: { key: Buffer; version: number }, value: Uint8Array): void {
    const number = this.kept.add(main, tombstone, kv.key, kv.version);
    if (number >= 0) {
      writeRevisionKey(this.revisionKeyBuffer, main, sub, false);
      this.crcAndLength[0] = crc32c(value, crc32c(this.putRevisionKey));
      this.crcAndLength[1] = REVISION_KEY_BYTES + value.length;
      this.keptCrcs.push(this.crcAndLength);
    } else if (main > this.compactRevision) {
      this.afterCompaction.addRecord(main, sub, tombstone, value);
    }
  }

  /**
   * `historyHash` is the hash over every revision (the archive's own, which its reader checks):
   * etcd's answer when no key is alive at the end, since Keep is empty then and nothing is skipped.
   */
  digest(historyHash: number): number {
    try {
      const kept = this.kept.finish();
      if (kept.liveKeys === 0) return historyHash;
      let crc = crc32c(Buffer.from('key'));
      this.keptCrcs.forEach((index, values, at) => {
        if (kept.holds(index)) crc = crc32cCombine(crc, values[at]!, values[at + 1]!);
      });
      return crc32cCombine(crc, this.afterCompaction.digest(), this.afterCompaction.bytes);
    } finally {
      this.close();
    }
  }

  /** Removes temporary files when reading stops before digest(). */
  close(): void {
    this.kept.close();
    this.keptCrcs.close();
  }
}
