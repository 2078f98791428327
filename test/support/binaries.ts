import { spawnSync } from 'node:child_process';

const hints: Record<string, string> = {
  etcd: 'apt-get install -y etcd-server',
  etcdctl: 'apt-get install -y etcd-client',
  openssl: 'apt-get install -y openssl',
  zstd: 'apt-get install -y zstd',
  tar: 'apt-get install -y tar',
  sha256sum: 'apt-get install -y coreutils',
};

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * For `test(name, { skip: missingBinary('etcd') }, ...)`: false when the program is on PATH,
 * else a skip message with the install hint. With STRATA_REQUIRE_INTEROP=1 (CI) a missing
 * program is an error instead, so interop tests cannot silently vanish.
 */
export function missingBinary(...names: string[]): string | false {
  const missing = names.filter((name) => !onPath(name));
  if (missing.length === 0) return false;
  const message = `${missing.join(', ')} not installed (${missing.map((m) => hints[m] ?? `install ${m}`).join('; ')})`;
  if (process.env['STRATA_REQUIRE_INTEROP'] === '1') throw new Error(`STRATA_REQUIRE_INTEROP=1 but ${message}`);
  return message;
}

/** Inside a test: skips it (returns false) when a program is missing; fails under STRATA_REQUIRE_INTEROP=1. */
export function requireBinary(t: { skip(message?: string): void }, ...names: string[]): boolean {
  const missing = missingBinary(...names);
  if (missing === false) return true;
  t.skip(missing);
  return false;
}
