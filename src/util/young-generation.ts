import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its first size (two 1 MiB semi-spaces on 64-bit) for the rest
 * of the process, instead of letting each busy period double it up to two 16 MiB ones. A save
 * makes mostly short-lived garbage (gRPC messages, decoded records, zstd output), and the grown
 * young generation, with what its larger scavenges promote, was most of the spread in a 1 GiB
 * save's peak RSS: 139–186 MiB to a file, 159–210 MiB to S3 and 178–191 MiB through Range, against
 * 110–116, 141–159 and 160–163 MiB held, for 0–7% more time.
 *
 * The size limits (--max-semi-space-size) are read once, when the heap is set up, so only the
 * command line or a worker's resourceLimits sets them; the growth factor is read each time V8
 * considers growing, which is why setting it here, after start-up, takes effect.
 */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
