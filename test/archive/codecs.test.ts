// Every codec reads what every other codec writes; the WASM fallback's gaps are covered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveReader, ArchiveWriter, availableCodecs, codecName, loadZstdCodec, type CodecName } from '../../src/archive/index.js';
import { IntegrityError, UsageError } from '../../src/util/errors.js';
import type { Logger, LogFields } from '../../src/util/log.js';
import { generateHistory, manifestFor, writeArchive } from './history.js';

const history = generateHistory(3, { revisions: 3000, keys: 200, valueBytes: 100, compactAt: 0.4, leases: 5 });

test('the default codec is the fastest that loads', () => {
  const codecs = availableCodecs();
  assert.ok(codecs.length > 0);
  assert.equal(codecName(), process.env.STRATA_ZSTD_CODEC ?? codecs[0]);
  if (process.env.STRATA_ZSTD_CODEC === undefined && codecs.includes('zstd-napi')) assert.equal(codecName(), 'zstd-napi');
  assert.throws(() => loadZstdCodec('nope' as CodecName), /not available here|Unknown/);
});

test('each codec writes archives every other codec reads', async () => {
  const codecs = availableCodecs();
  assert.ok(codecs.includes('zstd-codec'), 'the WASM fallback is installed');
  for (const writer of codecs) {
    const { bytes, summary } = await writeArchive(history, { codec: writer, level: 5 });
    assert.equal(summary.manifest.compression.codec, writer);
    for (const reader of codecs) {
      const r = await ArchiveReader.open([bytes], { codec: reader, checkMvcc: true, expectedSha256: summary.sha256 });
      const result = await r.finish();
      assert.deepEqual(result.trailer, summary.trailer, `${writer} -> ${reader}`);
    }
  }
});

test('the WASM codec is capped at level 9 with a warning, and levels outside 1..19 are refused', async () => {
  const warnings: [string, LogFields | undefined][] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (msg, fields) => warnings.push([msg, fields]),
    error: () => undefined,
    child: () => logger,
  };
  const { summary } = await writeArchive(history, { codec: 'zstd-codec', level: 19, logger });
  assert.equal(summary.manifest.compression.level, 9);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]![0], /zstd level 19 lowered to 9: the zstd-codec codec aborts above it/);
  for (const level of [0, 20, 2.5]) {
    assert.throws(() => new ArchiveWriter({ manifest: manifestFor(history), level }), UsageError, `level ${level}`);
  }
});

test('a truncated stream is caught with the WASM codec, which itself reports nothing', async () => {
  const { bytes } = await writeArchive(history, { codec: 'zstd-codec' });
  for (const cut of [bytes.length - 1, bytes.length - 3, Math.floor(bytes.length / 2), 10]) {
    const r = ArchiveReader.open([bytes.subarray(0, cut)], { codec: 'zstd-codec', label: 'cut' }).then((reader) => reader.finish());
    await assert.rejects(r, (err: unknown) => err instanceof IntegrityError && /^Cannot read snapshot 'cut': archive is truncated/.test(err.message), `cut at ${cut}`);
  }
});
