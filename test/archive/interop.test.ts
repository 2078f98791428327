// Stock tools read the archive: `zstd -d < x | tar t` lists it, `sha256sum -c` checks the sidecar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveReader, availableCodecs, formatSidecar, sidecarName } from '../../src/archive/index.js';
import { generateHistory, writeArchive } from './history.js';
import { requireBinary } from '../support/index.js';

test('zstd -d | tar t lists the entries in order, and tar extracts them', async (t) => {
  if (!requireBinary(t, 'zstd', 'tar', 'sha256sum')) return;
  const history = generateHistory(11, { revisions: 4000, keys: 500, valueBytes: 200, compactAt: 0.2, leases: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-interop-'));
  try {
    for (const codec of availableCodecs()) {
      const { bytes, summary } = await writeArchive(history, { codec, chunkBytes: 128 * 1024 });
      const path = join(dir, `${codec}.tar.zst`);
      writeFileSync(path, bytes);
      const listing = spawnSync('sh', ['-c', `zstd -dc < '${path}' | tar t`], { encoding: 'utf8' });
      assert.equal(listing.status, 0, `${codec}: ${listing.stderr}`);
      assert.deepEqual(listing.stdout.trim().split('\n'), [...Object.keys(summary.trailer.entries), 'trailer.json'], codec);
      const manifest = spawnSync('sh', ['-c', `zstd -dc < '${path}' | tar xO manifest.json`], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(manifest.stdout), summary.manifest, codec);
      const test = spawnSync('zstd', ['-t', '-q', path], { encoding: 'utf8' });
      assert.equal(test.status, 0, `${codec}: zstd -t: ${test.stderr}`);
      // Recompressed by the stock tool (other level, no content checksum), it still verifies.
      const again = join(dir, `${codec}.again.tar.zst`);
      const recompress = spawnSync('sh', ['-c', `zstd -dc < '${path}' | zstd -q -c -12 --no-check > '${again}'`], { encoding: 'utf8' });
      assert.equal(recompress.status, 0, recompress.stderr);
      const reader = await ArchiveReader.open(createReadStream(again), { label: again, checkMvcc: true });
      assert.deepEqual((await reader.finish()).trailer, summary.trailer);
      writeFileSync(sidecarName(path), formatSidecar(summary.sha256, path));
      const check = spawnSync('sha256sum', ['-c', sidecarName(path)], { cwd: dir, encoding: 'utf8' });
      assert.equal(check.status, 0, `${codec}: sha256sum -c: ${check.stdout}${check.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
