import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJson, goJsonString } from '../../../src/cli/output/etcd-json.js';
import { goDuration, goQuote, hexBytes, hexId, humanizeBytes } from '../../../src/cli/output/go-format.js';
import { renderTable } from '../../../src/cli/output/table.js';

test('goQuote escapes as Go %q does', () => {
  assert.equal(goQuote('foo'), '"foo"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('tab\tnl\n'), '"tab\\tnl\\n"');
  assert.equal(goQuote('héllo ✓'), '"héllo ✓"');
  assert.equal(goQuote(Buffer.from([0x00, 0x7f, 0xff, 0x41])), '"\\x00\\x7f\\xffA"');
  assert.equal(goQuote('\u200b'), '"\\u200b"');
});

test('goDuration prints like Go time.Duration.String', () => {
  assert.equal(goDuration(0n), '0s');
  assert.equal(goDuration(999n), '999ns');
  assert.equal(goDuration(1_500n), '1.5µs');
  assert.equal(goDuration(1_836_776n), '1.836776ms');
  assert.equal(goDuration(2_000_000_001n), '2.000000001s');
  assert.equal(goDuration(62_000_000_000n), '1m2s');
  assert.equal(goDuration(3_600_000_000_000n), '1h0m0s');
});

test('humanizeBytes matches go-humanize (SI units)', () => {
  assert.equal(humanizeBytes(0), '0 B');
  assert.equal(humanizeBytes(9), '9 B');
  assert.equal(humanizeBytes(999), '999 B');
  assert.equal(humanizeBytes(4096), '4.1 kB');
  assert.equal(humanizeBytes(20480), '20 kB');
  assert.equal(humanizeBytes(11157504), '11 MB');
});

test('IDs in hex without loss; bytes as \\xNN', () => {
  assert.equal(hexId('3319814642761637952'), '2e1259d415f2a040');
  assert.equal(hexId('18446744073709551615'), 'ffffffffffffffff');
  assert.equal(hexBytes(Buffer.from('foo')), '\\x66\\x6f\\x6f');
});

test('Go JSON: HTML-safe strings, field order kept, undefined left out', () => {
  assert.equal(goJsonString('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
  assert.equal(goJson({ b: 1, a: 'x', c: undefined, d: [true, null] }), '{"b":1,"a":"x","d":[true,null]}');
});

test('tables look like etcdctl: centred headers, right-aligned cells', () => {
  assert.equal(
    renderTable(['ENDPOINT', 'HASH'], [['127.0.0.1:23790', '818977837']]),
    [
      '+-----------------+-----------+',
      '|    ENDPOINT     |   HASH    |',
      '+-----------------+-----------+',
      '| 127.0.0.1:23790 | 818977837 |',
      '+-----------------+-----------+',
      '',
    ].join('\n'),
  );
});
