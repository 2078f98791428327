/**
 * The shared test harness. Tests use real parts: Debian's etcd and etcdctl, the `openssl`
 * CLI, `bin/strata` as a child process, temporary directories and free loopback ports.
 *
 * - freePort(): a port on 127.0.0.1 the OS just handed out.
 * - tempDir(prefix, t?): a directory under os.tmpdir(), removed when test `t` ends.
 * - seededRandom(seed): a small seeded PRNG; print the seed in failure messages.
 * - missingBinary(...names) / requireBinary(t, ...names): skip with an install hint when a
 *   program is missing; with STRATA_REQUIRE_INTEROP=1 (CI) a missing program fails instead.
 * - makeCerts(dir): CA, server (SAN 127.0.0.1, localhost) and client certificates.
 * - startEtcd({ tls? }): Debian etcd on free ports in a temp dir, ready to serve; halt(),
 *   restart() and stop().
 * - runStrata(args, opts) / runEtcdctl(args, opts): run to the end with a timeout, giving
 *   { code, signal, stdout, stderr }; startStrata / startEtcdctl leave it running (watch)
 *   with waitFor(condition) and stop(). runStrata runs bin/strata against the build these
 *   tests were compiled into (STRATA_DIST).
 */
export { missingBinary, requireBinary } from './binaries.js';
export { makeCerts, type TestCerts } from './certs.js';
export { startEtcd, type EtcdOptions, type EtcdProcess } from './etcd.js';
export { eventually } from './eventually.js';
export { freePort } from './net.js';
export {
  RunningProcess,
  buildRoot,
  repoRoot,
  runEtcdctl,
  runProcess,
  runStrata,
  startEtcdctl,
  startStrata,
  strataBin,
  type ProcessResult,
  type RunOptions,
} from './process.js';
export { seededRandom } from './random.js';
export { startRestartable, type Restartable } from './restartable.js';
export { tempDir } from './tmp.js';
