/**
 * Go's formatting conventions that etcdctl's output depends on: %q quoting, Duration.String,
 * humanize.Bytes, %x of 64-bit IDs, and \xNN hex strings.
 */

const printable = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** Go's strconv.Quote of bytes (%q): UTF-8 text kept, the rest escaped as Go escapes it. */
export function goQuote(bytes: Buffer | string): string {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let out = '"';
  let i = 0;
  while (i < buf.length) {
    const [codePoint, size] = decodeRune(buf, i);
    if (codePoint === undefined) {
      out += `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
      i += 1;
      continue;
    }
    i += size;
    const ch = String.fromCodePoint(codePoint);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (printable.test(ch)) out += ch;
    else out += goEscape(codePoint);
  }
  return `${out}"`;
}

function goEscape(codePoint: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  if (named[codePoint]) return named[codePoint]!;
  if (codePoint < 0x20 || codePoint === 0x7f) return `\\x${codePoint.toString(16).padStart(2, '0')}`;
  if (codePoint < 0x10000) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return `\\U${codePoint.toString(16).padStart(8, '0')}`;
}

/** One UTF-8 sequence at `i`: [code point, length], or [undefined, 1] when invalid. */
function decodeRune(buf: Buffer, i: number): [number | undefined, number] {
  const b0 = buf[i]!;
  if (b0 < 0x80) return [b0, 1];
  const size = b0 >= 0xf0 && b0 < 0xf5 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (size === 0 || b0 >= 0xf5 || i + size > buf.length) return [undefined, 1];
  let cp = b0 & (0xff >> (size + 1));
  for (let k = 1; k < size; k++) {
    const b = buf[i + k]!;
    if ((b & 0xc0) !== 0x80) return [undefined, 1];
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = size === 2 ? 0x80 : size === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [undefined, 1];
  return [cp, size];
}

/** Go's time.Duration.String for a duration in nanoseconds ("1.5ms", "2.000001s", "1m2s"). */
export function goDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const negative = nanos < 0n;
  let n = negative ? -nanos : nanos;
  let text: string;
  if (n < 1_000_000_000n) {
    const [unit, scale] = n < 1000n ? ['ns', 1n] : n < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    text = `${fraction(n, scale)}${unit}`;
  } else {
    const hours = n / 3_600_000_000_000n;
    n -= hours * 3_600_000_000_000n;
    const minutes = n / 60_000_000_000n;
    n -= minutes * 60_000_000_000n;
    text = `${hours > 0n ? `${hours}h` : ''}${hours > 0n || minutes > 0n ? `${minutes}m` : ''}${fraction(n, 1_000_000_000n)}s`;
  }
  return negative ? `-${text}` : text;
}

function fraction(value: bigint, scale: bigint): string {
  const whole = value / scale;
  const rest = value % scale;
  if (rest === 0n) return whole.toString();
  const digits = rest.toString().padStart(scale.toString().length - 1, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}

/** go-humanize's Bytes: SI units, one decimal below 10 ("11 MB", "4.1 kB", "999 B"). */
export function humanizeBytes(size: number): string {
  if (size < 10) return `${size} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const exponent = Math.floor(Math.log(size) / Math.log(1000));
  const value = Math.floor((size / 1000 ** exponent) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : roundHalfEven(value)} ${units[exponent]}`;
}

/** Go's %.0f rounds an exact half to the even neighbour (20.5 → 20), unlike toFixed. */
function roundHalfEven(value: number): string {
  const floor = Math.floor(value);
  const diff = value - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return String(rounded);
}

/** %x of a 64-bit unsigned ID given as a decimal string. */
export function hexId(id: string | bigint): string {
  return BigInt.asUintN(64, BigInt(id)).toString(16);
}

/** etcdctl's --hex form of bytes: every byte as \xNN. */
export function hexBytes(bytes: Buffer): string {
  return [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}
