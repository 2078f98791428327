// Memory stays bounded: writing and reading back a large archive, each in a fresh process.
// bench/archive-memory.ts runs the same steps at 1 GiB and prints the numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep } from '../../bench/archive-memory.js';

const LIMIT_MIB = 200;
const SIZE_MIB = Number(process.env.STRATA_ARCHIVE_MEMORY_MIB ?? 192);

test(`writing and verifying a ${SIZE_MIB} MiB archive stays under ${LIMIT_MIB} MiB of RSS`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-memory-'));
  try {
    const path = join(dir, 'big.tar.zst');
    const write = runStep('write', path, SIZE_MIB * 1024 * 1024);
    assert.ok(write.uncompressedBytes >= SIZE_MIB * 1024 * 1024 * 0.95, `wrote only ${write.uncompressedBytes} bytes`);
    assert.ok(write.maxRssMiB < LIMIT_MIB, `write peak RSS ${write.maxRssMiB} MiB`);
    const read = runStep('read', path, 0);
    assert.equal(read.records, write.records);
    assert.ok(read.maxRssMiB < LIMIT_MIB, `read peak RSS ${read.maxRssMiB} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
