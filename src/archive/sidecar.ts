import { basename } from 'node:path';

/**
 * The whole-file checksum that travels beside an archive as `<name>.sha256`, in `sha256sum`'s
 * format so `sha256sum -c x.tar.zst.sha256` checks it.
 */
export function sidecarName(archivePath: string): string {
  return `${archivePath}.sha256`;
}

export function formatSidecar(sha256: string, archivePath: string): string {
  return `${sha256}  ${basename(archivePath)}\n`;
}

/** The hex digest of a sidecar's first line, or undefined when the text is not one. */
export function parseSidecar(text: string): string | undefined {
  const match = /^([0-9a-fA-F]{64})[ \t]+\*?\S/.exec(text);
  return match?.[1]?.toLowerCase();
}
