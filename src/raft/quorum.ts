/**
 * Quorum arithmetic. A majority config is a set of voters; a joint config is two of them
 * (incoming, outgoing), and a decision needs a majority of each.
 */
export type VoteResult = 'pending' | 'lost' | 'won';

export type MajorityConfig = ReadonlySet<bigint>;

export interface JointConfig {
  readonly incoming: ReadonlySet<bigint>;
  readonly outgoing: ReadonlySet<bigint>;
}

/**
 * The largest index acknowledged by a majority, given each voter's acknowledged index.
 * An empty config commits everything (so an empty outgoing half never holds a joint config back).
 */
export function majorityCommitted(config: MajorityConfig, acked: (id: bigint) => number | undefined): number {
  if (config.size === 0) return Number.MAX_SAFE_INTEGER;
  const indexes: number[] = [];
  for (const id of config) indexes.push(acked(id) ?? 0);
  indexes.sort((a, b) => b - a);
  return indexes[Math.floor(config.size / 2)]!;
}

export function majorityVoteResult(config: MajorityConfig, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  if (config.size === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of config) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(config.size / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

export function jointCommitted(config: JointConfig, acked: (id: bigint) => number | undefined): number {
  return Math.min(majorityCommitted(config.incoming, acked), majorityCommitted(config.outgoing, acked));
}

export function jointVoteResult(config: JointConfig, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  const a = majorityVoteResult(config.incoming, votes);
  const b = majorityVoteResult(config.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

export function jointIds(config: JointConfig): Set<bigint> {
  return new Set([...config.incoming, ...config.outgoing]);
}
