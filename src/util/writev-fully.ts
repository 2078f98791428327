import type { FileHandle } from 'node:fs/promises';

/** Appends all of `parts` in gathered writes (no copy into one buffer), looping over short writes. */
export async function writevFully(file: FileHandle, parts: Buffer[]): Promise<void> {
  let total = 0;
  for (const part of parts) total += part.length;
  for (let written = 0; written < total; ) {
    const { bytesWritten } = await file.writev(written === 0 ? parts : [Buffer.concat(parts).subarray(written)]);
    written += bytesWritten;
  }
}
