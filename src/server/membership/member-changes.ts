import { ConfChangeType, type ConfChange, type ConfState } from '../../raft/index.js';
import type { StoredMember, MemberStore } from '../backend/members.js';
import { decodeMember } from './member-json.js';

/**
 * Records a committed membership conf change in the member store. Changes carry the member
 * as JSON in their context (as etcd's do), so every member, including one that joins later
 * and replays the log, learns names and URLs from the log itself. Idempotent: a restart
 * replays changes the store already has.
 */
export function recordMemberChange(store: MemberStore, cc: ConfChange): void {
  if (cc.kind !== 'v1') return;
  const existing = store.list().find((m) => m.id === cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode: {
      const isLearner = cc.type === ConfChangeType.AddLearnerNode;
      if (existing) store.put({ ...existing, isLearner: existing.isLearner && isLearner });
      else store.put({ ...decodeMember(cc.context, 'a membership change entry'), id: cc.nodeId, isLearner });
      return;
    }
    case ConfChangeType.RemoveNode:
      store.remove(cc.nodeId);
      return;
    case ConfChangeType.UpdateNode:
      if (existing) store.put({ ...existing, peerUrls: decodeMember(cc.context, 'a membership change entry').peerUrls });
      return;
  }
}

/** The raft configuration the recorded members describe (a restart's starting point). */
export function confStateOf(members: readonly StoredMember[]): ConfState {
  return {
    voters: members.filter((m) => !m.isLearner).map((m) => m.id),
    learners: members.filter((m) => m.isLearner).map((m) => m.id),
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
}
