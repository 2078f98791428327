import { Writable, type Readable } from 'node:stream';
import { UsageError } from '../../util/errors.js';
import type { SnapshotStore, StoredSnapshot, StoreWriter } from './store.js';

/**
 * `-`: save writes the archive to stdout, verify and status read it from stdin. The process's
 * streams are handed in by the CLI; they are never ended here (a pipe reader sees the end
 * when the process exits).
 */
export class StdioStore implements SnapshotStore {
  readonly location = '-';
  constructor(private readonly io: { stdout?: Writable; stdin?: Readable }) {}

  async createWriter(): Promise<StoreWriter> {
    const out = this.io.stdout;
    if (out === undefined) throw new UsageError("Cannot write a snapshot to '-' here: no standard output was given");
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (out.write(chunk)) callback();
        else out.once('drain', () => callback());
      },
    });
    return { stream, commit: async () => '-', abort: async () => undefined };
  }

  async openReader(): Promise<{ stream: Readable }> {
    if (this.io.stdin === undefined) throw new UsageError("Cannot read a snapshot from '-' here: no standard input was given");
    return { stream: this.io.stdin };
  }

  async list(): Promise<StoredSnapshot[]> {
    throw new UsageError("Cannot list '-': ls needs a directory or an s3:// prefix");
  }
}
