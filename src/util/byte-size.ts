const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A byte count for people: `768.0 KiB`, `448.0 GiB` (binary units, one decimal past bytes). */
export function formatBytes(bytes: number): string {
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
