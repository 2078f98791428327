import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { RunningProcess } from './process.js';
import { tempDir } from './tmp.js';

const require = createRequire(import.meta.url);
const s3rverBin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');

/** s3rver signs nothing itself but accepts only this access key id (it does not check v4 signatures). */
export const s3rverCredentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface S3rverProcess {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Where s3rver keeps buckets and objects on disk. */
  directory: string;
  /** Upload ids of multipart uploads begun but neither completed nor aborted (read from s3rver's disk). */
  pendingUploads(bucket: string): string[];
  /** Parts s3rver has fully received for a pending upload. */
  receivedParts(bucket: string, uploadId: string): number;
  stop(): Promise<void>;
}

/**
 * Starts s3rver as a child process on 127.0.0.1 (port picked by the OS) over a fresh temp dir,
 * with `buckets` created, and resolves once it answers HTTP. Stopped and removed when `t` ends.
 */
export async function startS3rver(t: Pick<TestContext, 'after'>, buckets: readonly string[] = []): Promise<S3rverProcess> {
  const dir = tempDir('s3rver', t);
  const args = [s3rverBin, '-d', dir.path, '-a', '127.0.0.1', '-p', '0'];
  for (const bucket of buckets) args.push('--configure-bucket', bucket);
  const child = new RunningProcess(process.execPath, args, { timeoutMs: 10 * 60_000 });
  const stop = async (): Promise<void> => {
    await child.stop('SIGKILL');
  };
  t.after(stop);
  await child.waitFor((out) => /listening on [\d.]+:\d+/.test(out), 15_000, 's3rver to listen');
  const port = /listening on [\d.]+:(\d+)/.exec(child.stdout)?.[1];
  const endpoint = `http://127.0.0.1:${port}`;
  const uploadsDir = (bucket: string): string => join(dir.path, bucket, '._S3rver_uploads');
  const entries = (path: string): string[] => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  };
  const answer = await fetch(endpoint);
  await answer.arrayBuffer();
  return {
    endpoint,
    directory: dir.path,
    pendingUploads: (bucket) => entries(uploadsDir(bucket)),
    // s3rver writes a part's .md5 file once the whole part is on disk.
    receivedParts: (bucket, uploadId) => entries(join(uploadsDir(bucket), uploadId)).filter((name) => name.endsWith('.md5')).length,
    stop,
  };
}
