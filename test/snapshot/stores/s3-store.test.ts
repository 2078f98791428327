import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store, type S3StoreOptions } from '../../../src/snapshot/stores/s3-store.js';
import type { LogFields, Logger } from '../../../src/util/log.js';
import { RunningProcess, buildRoot, runProcess, seededRandom } from '../../support/index.js';
import { s3rverCredentials, startS3rver, type S3rverProcess } from '../../support/s3rver.js';

// The raw client below is built without the store's guard against the SDK's Node version warning.
Object.assign(process.env, s3rverCredentials, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

const MiB = 1024 * 1024;
const bucket = 'snaps';

/** `size` bytes from a seeded PRNG, in 1 MiB chunks. */
function seededChunks(seed: number, size: number): Buffer[] {
  const next = seededRandom(seed);
  const chunks: Buffer[] = [];
  for (let left = size; left > 0; left -= MiB) {
    const chunk = Buffer.alloc(Math.min(MiB, left));
    for (let i = 0; i + 4 <= chunk.length; i += 4) chunk.writeUInt32LE(Math.floor(next() * 2 ** 32), i);
    chunks.push(chunk);
  }
  return chunks;
}

const sha256 = (chunks: readonly Buffer[]): string => {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
};

interface LogLine {
  level: string;
  msg: string;
  fields: LogFields;
}

function recordingLogger(lines: LogLine[] = [], base: LogFields = {}): Logger & { lines: LogLine[] } {
  const emit = (level: string) => (msg: string, fields: LogFields = {}) => void lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    lines,
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => recordingLogger(lines, { ...base, ...fields }),
  };
}

async function server(t: TestContext): Promise<{ s3: S3rverProcess; raw: S3Client; store: (url: string, o?: S3StoreOptions) => S3Store }> {
  const s3 = await startS3rver(t, [bucket]);
  const raw = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  t.after(() => raw.destroy());
  const store = (url: string, o: S3StoreOptions = {}): S3Store => {
    const made = S3Store.fromUrl(url, { endpoint: s3.endpoint, partSize: 5 * MiB, queueSize: 2, ...o });
    t.after(() => made.destroy());
    return made;
  };
  return { s3, raw, store };
}

async function save(store: S3Store, name: string, chunks: readonly Buffer[]): Promise<string> {
  const writer = await store.createWriter(name);
  await pipeline(Readable.from(chunks), writer.stream);
  return writer.commit(sha256(chunks));
}

async function exists(raw: S3Client, key: string): Promise<boolean> {
  try {
    await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

async function readAll(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Polls a condition that no event announces (another process's files) until a deadline. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An archive as a writer killed between CompleteMultipartUpload and the sidecar leaves it. */
async function putUncommitted(raw: S3Client, key: string): Promise<void> {
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'partial', Metadata: { 'strata-archive': '1' } }));
}

describe('S3Store against s3rver', () => {
  it('round-trips a multipart stream with its SHA-256 in the sidecar and its metadata', async (t) => {
    const seed = 0x53335f31;
    const { s3, raw, store } = await server(t);
    const chunks = seededChunks(seed, 12 * MiB + 12345);
    const location = await save(store(`s3://${bucket}/one/x.tar.zst`, { sse: 'AES256' }), 'ignored', chunks);
    assert.equal(location, `s3://${bucket}/one/x.tar.zst`);
    assert.deepEqual(s3.pendingUploads(bucket), [], `seed ${seed}`);

    const sidecar = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: 'one/x.tar.zst.sha256' }));
    assert.equal(sidecar.Metadata?.['sha256'], sha256(chunks));
    assert.equal(await sidecar.Body?.transformToString(), `${sha256(chunks)}  x.tar.zst\n`);

    const reader = await store(`s3://${bucket}/one/x.tar.zst`).openReader();
    assert.equal(reader.size, 12 * MiB + 12345);
    assert.equal(reader.sha256, sha256(chunks));
    assert.deepEqual(await readAll(reader.stream), { size: 12 * MiB + 12345, sha256: sha256(chunks) }, `seed ${seed}`);
  });

  it('cuts an archive into parts sent in order, and shows the object only at commit', async (t) => {
    const seed = 0x9a27;
    const { s3, raw, store } = await server(t);
    const log = recordingLogger();
    // s3rver takes parts under S3's 5 MiB minimum, so a few MiB make many parts; odd sizes cross part boundaries.
    const target = store(`s3://${bucket}/parts.tar.zst`, { logger: log, partSize: 256 * 1024 + 7, queueSize: 3 });
    const bytes = Buffer.concat(seededChunks(seed, 3 * MiB + 4321));
    const chunks: Buffer[] = [];
    for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 13) % 700_001) chunks.push(bytes.subarray(at, at + size));
    const writer = await target.createWriter('x');
    await pipeline(Readable.from(chunks), writer.stream);
    assert.equal(await exists(raw, 'parts.tar.zst'), false, 'the object appeared before commit');
    assert.equal(s3.pendingUploads(bucket).length, 1);
    await writer.commit(sha256([bytes]));

    assert.deepEqual(s3.pendingUploads(bucket), []);
    const parts = Math.ceil(bytes.length / (256 * 1024 + 7));
    assert.deepEqual(log.lines.filter((l) => l.msg === 'completed the multipart upload').map((l) => l.fields['parts']), [parts]);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts.tar.zst' }));
    assert.equal(head.Metadata?.['strata-archive'], '1');
    assert.equal(head.ContentType, 'application/octet-stream');
    const reader = await store(`s3://${bucket}/parts.tar.zst`).openReader();
    assert.deepEqual(await readAll(reader.stream), { size: bytes.length, sha256: sha256([bytes]) }, `seed ${seed}`);
  });

  it('an archive larger than the parts an object may have fails with one line, and leaves no object', async (t) => {
    const { s3, raw, store } = await server(t);
    const writer = await store(`s3://${bucket}/big.tar.zst`, { partSize: 256 * 1024, queueSize: 1, maxParts: 3 }).createWriter('x');
    const failure = await pipeline(Readable.from(seededChunks(0x51, 3 * 256 * 1024 + 1)), writer.stream).then(
      () => assert.fail('the save succeeded'),
      (err: Error & { code?: string }) => err,
    );
    assert.equal(failure.code, 'STRATA_S3_TOO_LARGE');
    assert.equal(
      failure.message,
      'Cannot write s3://snaps/big.tar.zst: the archive is larger than one S3 object of 3 parts (768.0 KiB) can hold; save it to a file instead',
    );
    await writer.abort(failure);
    assert.equal(await exists(raw, 'big.tar.zst'), false);
    assert.equal(await exists(raw, 'big.tar.zst.sha256'), false);
    // s3rver keeps an aborted upload's parts (see 'abort mid-upload' below); the third may have
    // been cancelled on its way, the fourth was never sent.
    const received = s3.pendingUploads(bucket).map((id) => s3.receivedParts(bucket, id));
    assert.ok(received.length === 1 && received[0]! <= 3, `parts received: ${received.join(', ')}`);
  });

  it('an archive smaller than one part goes up whole at commit, with no multipart upload', async (t) => {
    const { s3, raw, store } = await server(t);
    const writer = await store(`s3://${bucket}/small.tar.zst`).createWriter('x');
    const chunks = seededChunks(4, 300_000);
    await pipeline(Readable.from(chunks), writer.stream);
    assert.equal(await exists(raw, 'small.tar.zst'), false);
    assert.deepEqual(s3.pendingUploads(bucket), []);
    await writer.commit(sha256(chunks));
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small.tar.zst' }));
    assert.equal(head.Metadata?.['strata-archive'], '1');
    assert.equal(head.ContentLength, 300_000);
    const empty = await store(`s3://${bucket}/empty.tar.zst`).createWriter('x');
    empty.stream.end();
    await empty.commit(sha256([]));
    assert.deepEqual(await readAll((await store(`s3://${bucket}/empty.tar.zst`).openReader()).stream), { size: 0, sha256: sha256([]) });
  });

  it('a server lost between parts fails the writes with one line, and the abort leaves no object', async (t) => {
    const seed = 0x7a11;
    const { s3, store } = await server(t);
    const log = recordingLogger();
    const writer = await store(`s3://${bucket}/lost.tar.zst`, { logger: log, partSize: MiB, queueSize: 1 }).createWriter('x');
    async function* source(): AsyncGenerator<Buffer> {
      for (const [i, chunk] of seededChunks(seed, 8 * MiB).entries()) {
        yield chunk;
        if (i !== 1) continue;
        // The parts after the first one meet a server that is gone.
        await until(() => s3.pendingUploads(bucket).some((id) => s3.receivedParts(bucket, id) > 0), 30_000, 'the first part to arrive');
        await s3.stop();
      }
    }
    const failure = await pipeline(source(), writer.stream).then(
      () => assert.fail('the save succeeded'),
      (err: Error & { code?: string }) => err,
    );
    assert.match(failure.code ?? '', /^STRATA_S3_(UNREACHABLE|CONNECTION_LOST)$/, failure.message);
    assert.match(failure.message, /^Cannot write s3:\/\/snaps\/lost\.tar\.zst: [^\n]+; (check --s3-endpoint|run it again)/);
    await writer.abort(failure);
    await assert.rejects(writer.commit(sha256([])), { code: 'STRATA_S3_WRITER', message: /already aborted/ });
    // Read from s3rver's disk, as it is down: the bucket holds only the parts of the pending upload.
    assert.deepEqual(readdirSync(join(s3.directory, bucket)), ['._S3rver_uploads'], `seed ${seed}`);
    const pending = s3.pendingUploads(bucket);
    assert.equal(pending.length, 1);
    const warned = log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('could not abort the multipart upload'));
    assert.deepEqual(warned.map((l) => l.fields['uploadId']), pending);
  });

  it('a server lost in the middle of a read fails the stream with one line', async (t) => {
    const { s3, store } = await server(t);
    await save(store(`s3://${bucket}/cut.tar.zst`), 'x', seededChunks(11, 12 * MiB));
    const reader = await store(`s3://${bucket}/cut.tar.zst`).openReader();
    await new Promise((resolve) => reader.stream.once('readable', resolve));
    // The failure may come while nothing reads; the iterator below still reports it.
    reader.stream.on('error', () => undefined);
    await s3.stop();
    await assert.rejects(readAll(reader.stream), (err: Error & { code?: string }) => {
      assert.equal(err.message, `Cannot read s3://snaps/cut.tar.zst: lost the connection to ${s3.endpoint} (connection reset); run it again`);
      assert.equal(err.code, 'STRATA_S3_CONNECTION_LOST');
      return true;
    });
  });

  it('lists only complete snapshots directly under the prefix, newest first', async (t) => {
    const { raw, store } = await server(t);
    const prefix = store(`s3://${bucket}/nightly/`);
    const names = ['c1-20260101T000000Z-r9.tar.zst', 'c1-20260103T000000Z-r30.tar.zst', 'c1-20260102T000000Z-r20.tar.zst'];
    for (const [i, name] of names.entries()) await save(prefix, name, seededChunks(i, 1000 + i));
    await putUncommitted(raw, 'nightly/c1-20260104T000000Z-r40.tar.zst');
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'nightly/notes.txt', Body: 'not ours' }));
    await save(store(`s3://${bucket}/nightly/deeper/`), 'c1-20260105T000000Z-r50.tar.zst', seededChunks(9, 10));

    const listed = await prefix.list();
    assert.deepEqual(
      listed.map((s) => [s.name, s.location, s.size]),
      [
        ['c1-20260103T000000Z-r30.tar.zst', `s3://${bucket}/nightly/c1-20260103T000000Z-r30.tar.zst`, 1001],
        ['c1-20260102T000000Z-r20.tar.zst', `s3://${bucket}/nightly/c1-20260102T000000Z-r20.tar.zst`, 1002],
        ['c1-20260101T000000Z-r9.tar.zst', `s3://${bucket}/nightly/c1-20260101T000000Z-r9.tar.zst`, 1000],
      ],
    );
    assert.ok(listed.every((s) => s.modified instanceof Date && s.modified.getTime() > 0));
    const single = await store(`s3://${bucket}/nightly/c1-20260102T000000Z-r20.tar.zst`).list();
    assert.deepEqual(single.map((s) => s.name), ['c1-20260102T000000Z-r20.tar.zst']);
    assert.deepEqual(await store(`s3://${bucket}/nightly/c1-20260104T000000Z-r40.tar.zst`).list(), []);
  });

  it('refuses to read an archive whose upload never committed, and reads foreign objects', async (t) => {
    const { raw, store } = await server(t);
    await putUncommitted(raw, 'half.tar.zst');
    await assert.rejects(store(`s3://${bucket}/half.tar.zst`).openReader(), {
      code: 'STRATA_INTEGRITY',
      message: `Cannot read s3://${bucket}/half.tar.zst: the snapshot is incomplete (its upload was interrupted before 'half.tar.zst.sha256' was written); save it again`,
    });
    const foreignSha = createHash('sha256').update('by hand').digest('hex');
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'foreign.db', Body: 'by hand', Metadata: { sha256: foreignSha } }));
    const reader = await store(`s3://${bucket}/foreign.db`).openReader();
    assert.equal(reader.sha256, foreignSha);
    assert.deepEqual(await readAll(reader.stream), { size: 7, sha256: foreignSha });
    await assert.rejects(store(`s3://${bucket}/nothing.tar.zst`).openReader(), {
      code: 'STRATA_S3_NO_OBJECT',
      message: `Cannot read s3://${bucket}/nothing.tar.zst: no such object; check the key (see 'strata snapshot ls')`,
    });
    await assert.rejects(store(`s3://${bucket}/dir/`).openReader(), { code: 'STRATA_USAGE' });
  });

  it('abort mid-upload leaves no object, and asks the server to drop the parts', async (t) => {
    const seed = 0xab027;
    const { s3, raw, store } = await server(t);
    const log = recordingLogger();
    const target = store(`s3://${bucket}/aborted.tar.zst`, { logger: log });
    const writer = await target.createWriter('x');
    // Two full parts are handed to the uploader before the source fails.
    for (const chunk of seededChunks(seed, 11 * MiB)) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    await writer.abort(new Error('the source failed'));
    assert.equal(await exists(raw, 'aborted.tar.zst'), false, `seed ${seed}`);
    assert.equal(await exists(raw, 'aborted.tar.zst.sha256'), false);
    assert.deepEqual(await target.list(), []);
    // s3rver 3.7.1 answers AbortMultipartUpload with MethodNotAllowed: the parts stay on its disk,
    // and the store says so instead of failing. S3 itself removes them.
    const pending = s3.pendingUploads(bucket);
    assert.equal(pending.length, 1, `seed ${seed}`);
    const warned = log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('could not abort the multipart upload'));
    assert.deepEqual(
      warned.map((l) => l.fields['uploadId']),
      pending,
    );
  });

  it('abort after the stream ended, before commit, leaves no object', async (t) => {
    const { raw, store } = await server(t);
    const writer = await store(`s3://${bucket}/small.tar.zst`).createWriter('x');
    await pipeline(Readable.from([Buffer.from('tiny archive')]), writer.stream);
    await writer.abort();
    assert.equal(await exists(raw, 'small.tar.zst'), false);
  });

  it('commit with a SHA-256 that does not match the bytes fails and leaves no object', async (t) => {
    const { raw, store } = await server(t);
    const writer = await store(`s3://${bucket}/wrong.tar.zst`).createWriter('x');
    await pipeline(Readable.from(seededChunks(3, 6 * MiB)), writer.stream);
    await assert.rejects(writer.commit('0'.repeat(64)), { code: 'STRATA_INTEGRITY', message: /differs from the bytes uploaded/ });
    assert.equal(await exists(raw, 'wrong.tar.zst'), false);
    assert.equal(await exists(raw, 'wrong.tar.zst.sha256'), false);
  });

  it('commit before the stream ended fails at once and leaves no object', async (t) => {
    const { raw, store } = await server(t);
    const writer = await store(`s3://${bucket}/early.tar.zst`).createWriter('x');
    writer.stream.write(Buffer.alloc(1024));
    await assert.rejects(writer.commit('0'.repeat(64)), { code: 'STRATA_S3_WRITER', message: /before the archive stream ended/ });
    assert.equal(await exists(raw, 'early.tar.zst'), false);
  });

  it('a save over an existing snapshot never looks complete with the old sidecar', async (t) => {
    const { raw, store } = await server(t);
    const target = store(`s3://${bucket}/same.tar.zst`);
    await save(target, 'x', seededChunks(1, 100));
    const writer = await target.createWriter('x');
    assert.equal(await exists(raw, 'same.tar.zst.sha256'), false);
    await writer.abort();
    assert.deepEqual(await target.list(), []);
  });

  it('sweeps uncommitted archives of its own older than the limit, and logs what it removed', async (t) => {
    const { raw, store } = await server(t);
    await putUncommitted(raw, 'p/old.tar.zst');
    await putUncommitted(raw, 'other/old.tar.zst');
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/user-file.bin', Body: 'keep me' }));
    const log = recordingLogger();
    const prefix = store(`s3://${bucket}/p/`, { logger: log });

    assert.deepEqual(await prefix.removeStale(60 * 60 * 1000), { uploads: 0, objects: 0 });
    assert.equal(await exists(raw, 'p/old.tar.zst'), true);

    assert.deepEqual(await prefix.removeStale(0), { uploads: 0, objects: 1 });
    assert.equal(await exists(raw, 'p/old.tar.zst'), false);
    assert.equal(await exists(raw, 'p/user-file.bin'), true);
    assert.equal(await exists(raw, 'other/old.tar.zst'), true);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.msg === 'removed an incomplete snapshot object' && l.fields['location'] === `s3://${bucket}/p/old.tar.zst`));
    // s3rver has no ListMultipartUploads; the sweep says so and carries on.
    assert.ok(log.lines.some((l) => l.level === 'info' && l.msg.startsWith('this S3 server cannot list pending multipart uploads')));
  });

  it('a killed uploader leaves no complete-looking object, and the next save sweeps what it can', async (t) => {
    const { s3, raw, store } = await server(t);
    const module = pathToFileURL(join(buildRoot, 'src', 'snapshot', 'stores', 's3-store.js')).href;
    const script = `
      import { S3Store } from ${JSON.stringify(module)};
      const store = S3Store.fromUrl('s3://${bucket}/killed/x.tar.zst', { endpoint: ${JSON.stringify(s3.endpoint)}, partSize: 5 * 1024 * 1024, queueSize: 2 });
      const writer = await store.createWriter('x');
      const chunk = Buffer.alloc(1024 * 1024, 7);
      for (let i = 0; ; i++) {
        if (i === 12) process.stdout.write('writing\\n');
        if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
      }`;
    const child = new RunningProcess(process.execPath, ['--input-type=module', '-e', script], { env: { ...s3rverCredentials }, timeoutMs: 60_000 });
    t.after(() => child.stop('SIGKILL'));
    await child.waitFor((out) => out.includes('writing'), 30_000, 'the uploader to start');
    await until(() => s3.pendingUploads(bucket).some((id) => s3.receivedParts(bucket, id) > 0), 30_000, 'a part to reach s3rver');
    assert.equal((await child.stop('SIGKILL')).signal, 'SIGKILL');

    assert.equal(await exists(raw, 'killed/x.tar.zst'), false);
    assert.equal(await exists(raw, 'killed/x.tar.zst.sha256'), false);
    assert.deepEqual(await store(`s3://${bucket}/killed/`).list(), []);
    await assert.rejects(store(`s3://${bucket}/killed/x.tar.zst`).openReader(), { code: 'STRATA_S3_NO_OBJECT' });

    const log = recordingLogger();
    const chunks = seededChunks(5, 2 * MiB);
    await save(store(`s3://${bucket}/killed/x.tar.zst`, { logger: log, staleAfterMs: 0 }), 'x', chunks);
    assert.ok(log.lines.some((l) => l.level === 'info' && l.msg.startsWith('this S3 server cannot list pending multipart uploads')));
    const reader = await store(`s3://${bucket}/killed/x.tar.zst`).openReader();
    assert.equal((await readAll(reader.stream)).sha256, sha256(chunks));
  });

  it('a 256 MiB save and read back with the default part settings stay under 200 MiB of RSS', async (t) => {
    const { s3 } = await server(t);
    const module = pathToFileURL(join(buildRoot, 'src', 'snapshot', 'stores', 's3-store.js')).href;
    const script = `
      import { createHash } from 'node:crypto';
      import { S3Store } from ${JSON.stringify(module)};
      const store = S3Store.fromUrl('s3://${bucket}/big.tar.zst', { endpoint: ${JSON.stringify(s3.endpoint)} });
      const writer = await store.createWriter('x');
      const hash = createHash('sha256');
      for (let i = 0; i < 4096; i++) {
        const chunk = Buffer.alloc(65536, i & 255);
        hash.update(chunk);
        if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
      }
      writer.stream.end();
      await writer.commit(hash.digest('hex'));
      const reader = await store.openReader();
      const check = createHash('sha256');
      for await (const chunk of reader.stream) check.update(chunk);
      console.log(JSON.stringify({ same: check.digest('hex') === reader.sha256, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
      store.destroy();`;
    const result = await runProcess(process.execPath, ['--input-type=module', '-e', script], { env: { ...s3rverCredentials }, timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    const { same, maxRssMiB } = JSON.parse(result.stdout) as { same: boolean; maxRssMiB: number };
    assert.ok(same);
    assert.ok(maxRssMiB < 200, `peak RSS ${maxRssMiB} MiB`);
  });
});
