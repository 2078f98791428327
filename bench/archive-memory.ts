// Peak memory of writing and reading back a large synthetic archive, each in its own process.
//   node dist/bench/archive-memory.js [uncompressedMiB=1024] [dir=os.tmpdir()]
// Prints one line per step with the peak RSS (process.resourceUsage().maxRSS); the goal is
// under 200 MiB for a 1 GiB snapshot. test/archive/memory.test.ts runs the same children.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { encodeKeyValue } from '../src/api/mvccpb.js';
import { ArchiveReader, ArchiveWriter } from '../src/archive/index.js';

export interface StepReport {
  step: 'write' | 'read';
  maxRssMiB: number;
  seconds: number;
  records: number;
  archiveBytes: number;
  uncompressedBytes: number;
  codec: string;
}

const KEYS = 200_000;
const VALUE_BYTES = 1000;

/** Values that compress roughly like real configuration data: text, part of it fresh entropy. */
function valueSource(): (rev: number) => Buffer {
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_');
  let state = 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return alphabet[(state >>> 0) & 63]!;
  };
  const pool = Buffer.alloc(1 << 20);
  for (let i = 0; i < pool.length; i++) pool[i] = next();
  return (rev) => {
    const start = (rev * 7919) % (pool.length - VALUE_BYTES);
    const value = Buffer.from(pool.subarray(start, start + VALUE_BYTES));
    for (let i = 0; i < VALUE_BYTES / 16; i++) value[i * 16] = next();
    value.write(`{"rev":${rev},`, 0);
    return value;
  };
}

async function writeStep(path: string, targetBytes: number): Promise<StepReport> {
  const started = process.hrtime.bigint();
  const value = valueSource();
  const versions = new Uint32Array(KEYS);
  const creates = new Uint32Array(KEYS);
  // Each stored key-value is a little over 1030 bytes, so this overshoots the target slightly.
  const records = Math.ceil(targetBytes / (VALUE_BYTES + 30));
  const writer = new ArchiveWriter({
    manifest: {
      toolVersion: 'bench',
      source: { kind: 'strata', clusterId: '1', members: [] },
      revision: records,
      compactRevision: 0,
    },
  });
  const sink = pipeline(writer.output, createWriteStream(path));
  let uncompressed = 0;
  for (let main = 1; main <= records; main++) {
    const k = (main * 2654435761) % KEYS;
    if (versions[k] === 0) creates[k] = main;
    versions[k]! += 1;
    const kv = { key: Buffer.from(`/registry/configmaps/bench/key-${k}`), createRevision: creates[k]!, modRevision: main, version: versions[k]!, value: value(main), lease: 0n };
    const kvBytes = encodeKeyValue(kv);
    uncompressed += kvBytes.length;
    await writer.writeRecord({ main, sub: 0, tombstone: false, kv, kvBytes });
  }
  const summary = await writer.finish();
  await sink;
  return report('write', started, summary.trailer.recordCount, summary.bytes, uncompressed, writer.codec);
}

async function readStep(path: string): Promise<StepReport> {
  const started = process.hrtime.bigint();
  const reader = await ArchiveReader.open(createReadStream(path), { label: path, checkMvcc: true });
  let uncompressed = 0;
  for await (const batch of reader.recordBatches()) for (const r of batch) uncompressed += r.kvBytes.length;
  const result = await reader.finish();
  return report('read', started, result.trailer.recordCount, statSync(path).size, uncompressed, reader.manifest.compression.codec);
}

function report(step: StepReport['step'], started: bigint, records: number, archiveBytes: number, uncompressedBytes: number, codec: string): StepReport {
  return {
    step,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    records,
    archiveBytes,
    uncompressedBytes,
    codec,
  };
}

/** Runs one step in a fresh process, so its peak RSS is its own. */
export function runStep(step: 'write' | 'read', path: string, targetBytes: number): StepReport {
  // A heap cap under the RSS goal makes V8 collect before it would overshoot; a step that really
  // needed more would fail here, which is the failure this measures.
  const child = spawnSync(process.execPath, ['--max-old-space-size=160', fileURLToPath(import.meta.url), 'child', step, path, String(targetBytes)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`${step} step failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as StepReport;
}

async function main(args: string[]): Promise<void> {
  if (args[0] === 'child') {
    const [, step, path, target] = args;
    const result = step === 'write' ? await writeStep(path!, Number(target)) : await readStep(path!);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const mib = Number(args[0] ?? 1024);
  const dir = mkdtempSync(join(args[1] ?? tmpdir(), 'strata-archive-bench-'));
  try {
    const path = join(dir, 'bench.tar.zst');
    for (const step of ['write', 'read'] as const) {
      const r = runStep(step, path, mib * 1024 * 1024);
      process.stdout.write(
        `${step.padEnd(5)} ${(r.uncompressedBytes / 2 ** 20).toFixed(0)} MiB of records (${r.records} records) -> ${(r.archiveBytes / 2 ** 20).toFixed(0)} MiB archive [${r.codec}]: ` +
          `peak RSS ${r.maxRssMiB} MiB, ${r.seconds.toFixed(1)} s\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
