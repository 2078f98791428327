import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeClusterId, computeMemberId, formatId } from '../../../src/server/membership/ids.js';

test("a default single-member etcd gets etcd's well-known member and cluster IDs", () => {
  // etcd started with no flags reports member 8e9e05c52164694d in cluster cdf818194e3a8c32.
  const member = computeMemberId(['http://localhost:2380'], 'etcd-cluster');
  assert.equal(formatId(member), '8e9e05c52164694d');
  assert.equal(formatId(computeClusterId([member])), 'cdf818194e3a8c32');
});

test('member IDs ignore the order of peer URLs; cluster IDs ignore the order of members', () => {
  const a = computeMemberId(['http://10.0.0.1:2380', 'http://10.0.0.2:2380'], 't');
  const b = computeMemberId(['http://10.0.0.2:2380', 'http://10.0.0.1:2380'], 't');
  assert.equal(a, b);
  const c = computeMemberId(['http://10.0.0.3:2380'], 't');
  assert.equal(computeClusterId([a, c]), computeClusterId([c, a]));
  assert.notEqual(computeMemberId(['http://10.0.0.3:2380'], 'other-token'), c);
});
