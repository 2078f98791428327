/**
 * etcd's request ID generator: the low 16 bits of the member ID in the top 16 bits, then a
 * 48-bit counter seeded from the clock, so IDs are unique across members and restarts.
 * Lease IDs granted without an explicit ID come from here too (with the sign bit cleared),
 * which is why etcd's lease IDs start with the member's digits.
 */
export class RequestIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.suffix = (BigInt(nowMs) << 8n) & 0xffff_ffff_ffffn;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & 0xffff_ffff_ffffn;
    return this.prefix | this.suffix;
  }
}
