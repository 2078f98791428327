import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archiveRecordHeadLength, decodeArchiveRecord, writeArchiveRecordHead } from '../../src/api/archivepb.js';
import { ProtoWriter, WireType, uvarintLength, writeUvarint } from '../../src/api/protowire.js';
import { seededRandom } from '../support/random.js';

/** The record as a general protobuf encoder writes it: the bytes the archive has always held. */
function referenceRecord(main: number, sub: number, tombstone: boolean, kv: Buffer): Buffer {
  const w = new ProtoWriter().optionalNumber(1, main).optionalNumber(2, sub).optionalBool(3, tombstone);
  if (kv.length !== 0) w.tag(4, WireType.bytes).uvarint(kv.length);
  return Buffer.concat([w.finish(), kv]);
}

test('archive record heads written in place equal the protobuf encoding, at every varint width and with zero fields left out', () => {
  const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const widths = [0, 1, 127, 128, 16_383, 16_384, 2 ** 28, 2 ** 35, Number.MAX_SAFE_INTEGER];
  const pick = (): number => (random() < 0.5 ? widths[Math.floor(random() * widths.length)]! : Math.floor(random() * 2 ** (1 + Math.floor(random() * 52))));
  for (let i = 0; i < 5_000; i++) {
    const [main, sub, tombstone] = [pick(), pick(), random() < 0.5];
    const kv = Buffer.alloc(random() < 0.1 ? 0 : Math.floor(random() * 300), i & 0xff);
    const want = referenceRecord(main, sub, tombstone, kv);
    const headLength = archiveRecordHeadLength(main, sub, tombstone, kv.length);
    const out = Buffer.alloc(3 + headLength + kv.length + 3, 0xee);
    const at = writeArchiveRecordHead(out, 3, main, sub, tombstone, kv.length);
    kv.copy(out, at);
    const context = `seed ${seed} (STRATA_TEST_SEED): main ${main}, sub ${sub}, tombstone ${tombstone}, ${kv.length}-byte value`;
    assert.equal(at - 3, headLength, context);
    assert.equal(out.subarray(3, at + kv.length).toString('hex'), want.toString('hex'), context);
    assert.equal(out.subarray(0, 3).toString('hex') + out.subarray(at + kv.length).toString('hex'), 'eeeeeeeeeeee', `${context}: wrote outside its bytes`);
    assert.deepEqual(decodeArchiveRecord(out.subarray(3, at + kv.length)), { main, sub, tombstone, kvBytes: kv }, context);
  }
});

test('uvarints written in place take the bytes uvarintLength counts and read back', () => {
  for (const value of [0, 1, 127, 128, 300, 2 ** 21 - 1, 2 ** 21, 2 ** 49, Number.MAX_SAFE_INTEGER]) {
    const out = Buffer.alloc(12);
    const end = writeUvarint(out, 1, value);
    assert.equal(end - 1, uvarintLength(value), `${value}`);
    assert.equal(out.subarray(1, end).toString('hex'), new ProtoWriter().uvarint(value).finish().toString('hex'), `${value}`);
  }
  assert.throws(() => writeUvarint(Buffer.alloc(12), 0, -1), RangeError);
  assert.throws(() => writeUvarint(Buffer.alloc(12), 0, 2 ** 53), RangeError);
});
