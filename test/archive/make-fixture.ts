// Writes the committed fixture archives (docs/archive-format.md, "Fixtures"):
//   node <build>/test/archive/make-fixture.js fixtures/archive
// small.tar.zst and its sidecar, plus corrupt copies for the CLI's tests. The history is
// seeded and the manifest's time fixed, so the content is the same on every run (the zstd
// bytes may differ between libzstd versions; the trailer's entry SHA-256s do not).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSidecar, sidecarName } from '../../src/archive/index.js';
import { generateHistory, writeArchive, type History } from './history.js';

export const FIXTURE_SEED = 42;

export function fixtureHistory(): History {
  return generateHistory(FIXTURE_SEED, { revisions: 120, keys: 20, valueBytes: 24, compactAt: 0.25, leases: 3 });
}

async function main(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { bytes, summary } = await writeArchive(fixtureHistory(), { codec: 'zstd-napi', level: 3 });
  const path = join(dir, 'small.tar.zst');
  writeFileSync(path, bytes);
  writeFileSync(sidecarName(path), formatSidecar(summary.sha256, path));
  writeFileSync(join(dir, 'small-truncated.tar.zst'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(bytes.length / 2)]! ^= 0x20;
  writeFileSync(join(dir, 'small-flipped.tar.zst'), flipped);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.argv[2] ?? 'fixtures/archive');
}
