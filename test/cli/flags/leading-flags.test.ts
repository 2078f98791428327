import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveLeadingClientFlags } from '../../../src/cli/flags/leading-flags.js';

const argv = (...args: string[]): string[] => ['node', 'strata', ...args];

test('client flags before the command move behind it, as etcdctl allows', () => {
  assert.deepEqual(
    moveLeadingClientFlags(argv('--cert', 'c.pem', '--key=k.pem', '--hex', 'member', 'list', '-w', 'table')),
    argv('member', 'list', '--cert', 'c.pem', '--key=k.pem', '--hex', '-w', 'table'),
  );
  assert.deepEqual(moveLeadingClientFlags(argv('--endpoints', 'a:1', 'get', 'k')), argv('get', '--endpoints', 'a:1', 'k'));
});

test('other commands and argv without leading client flags are left alone', () => {
  assert.deepEqual(moveLeadingClientFlags(argv('get', 'k', '--endpoints', 'a:1')), argv('get', 'k', '--endpoints', 'a:1'));
  assert.deepEqual(moveLeadingClientFlags(argv('--endpoints', 'a:1', 'snapshot', 'save', 'x')), argv('--endpoints', 'a:1', 'snapshot', 'save', 'x'));
});
