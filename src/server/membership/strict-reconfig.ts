import { EtcdError } from '../../api/etcd-errors.js';
import type { StoredMember } from '../backend/members.js';

/** A membership change to check before it is proposed. */
export type ReconfigChange = { kind: 'add'; isLearner: boolean } | { kind: 'remove'; id: bigint };

/** What the leader knows of the cluster when it checks a change. */
export interface ReconfigView {
  members: readonly StoredMember[];
  self: bigint;
  /** Since when messages to a peer have gone through without a failure; undefined when they do not. */
  connectedSince: (id: bigint) => number | undefined;
  /** A peer counts as connected once it has been for this long. */
  healthIntervalMs: number;
  now: number;
}

/**
 * etcd's --strict-reconfig-check: a change that would leave the cluster without a quorum of
 * started members ("etcdserver: re-configuration failed due to not enough started members")
 * or of connected ones ("etcdserver: unhealthy cluster") is refused. A member is started once
 * it has published its name; a stopped member stays started, as in etcd.
 */
export function checkReconfig(view: ReconfigView, change: ReconfigChange): void {
  const voters = view.members.filter((m) => !m.isLearner);
  if (change.kind === 'add') {
    if (!change.isLearner && !readyToAddVoter(voters)) throw new EtcdError('memberNotEnoughStarted');
    if (voters.some((m) => !connected(view, m.id))) throw new EtcdError('unhealthy');
    return;
  }
  if (view.members.find((m) => m.id === change.id)?.isLearner) return;
  const rest = voters.filter((m) => m.id !== change.id);
  if (rest.filter(isStarted).length < quorum(rest.length)) throw new EtcdError('memberNotEnoughStarted');
  // A member that is down takes no part in the quorum: removing it is safe.
  if (change.id !== view.self && view.connectedSince(change.id) === undefined) return;
  const active = voters.filter((m) => connected(view, m.id)).length;
  if (active - 1 < quorum(voters.length - 1)) throw new EtcdError('unhealthy');
}

function readyToAddVoter(voters: readonly StoredMember[]): boolean {
  const members = voters.length + 1;
  const started = voters.filter(isStarted).length;
  // One member adding a second: it cannot have started before it is added.
  if (started === 1 && members === 2) return true;
  return started >= quorum(members);
}

function isStarted(m: StoredMember): boolean {
  return m.name !== '';
}

function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

function connected(view: ReconfigView, id: bigint): boolean {
  if (id === view.self) return true;
  const since = view.connectedSince(id);
  return since !== undefined && since <= view.now - view.healthIntervalMs;
}
