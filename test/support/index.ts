/**
 * The shared test harness. Tests use real parts: Debian's etcd and etcdctl, the `openssl`
 * CLI, `bin/strata` as a child process, temporary directories and free loopback ports.
 *
 * - freePort(): a free port on 127.0.0.1, below the range outgoing connections draw from.
 * - tempDir(prefix, t?): a directory under os.tmpdir(), removed when test `t` ends.
 * - mountTmpfs(t, bytes): a small tmpfs to fill (needs root; says why when refused); smallDisk:
 *   its path, or the test skipped;
 *   assertFullDiskFailure: spilled state on it fails with one line.
 * - seededRandom(seed): a small seeded PRNG; print the seed in failure messages.
 * - seededBytes(random, length): bytes drawn from such a generator.
 * - missingBinary(...names) / requireBinary(t, ...names): skip with an install hint when a
 *   program is missing; with STRATA_REQUIRE_INTEROP=1 (CI) a missing program fails instead.
 * - makeCerts(dir): CA, server (SAN 127.0.0.1, localhost) and client certificates.
 * - startEtcd({ tls? }): Debian etcd on free ports in a temp dir, ready to serve; halt(),
 *   restart() and stop().
 * - runStrata(args, opts) / runEtcdctl(args, opts): run to the end with a timeout, giving
 *   { code, signal, stdout, stderr }; startStrata / startEtcdctl leave it running (watch)
 *   with waitFor(condition) and stop(). runStrata runs bin/strata against the build these
 *   tests were compiled into (STRATA_DIST).
 * - PeerNetwork: one TCP proxy per cluster member's peer port; cut, blackhole or delay links.
 * - HistoryRecorder, kvModel, checkPerKey: record a concurrent KV history and check it for
 *   linearizability (linearizability/).
 */
export { missingBinary, requireBinary } from './binaries.js';
export { assertFullDiskFailure, mountTmpfs, smallDisk } from './tmpfs.js';
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
export { seededBytes, seededRandom } from './random.js';
export { startRestartable, type Restartable } from './restartable.js';
export { tempDir } from './tmp.js';
export { PeerNetwork, linuxOnly, type LinkFault, type ProxiedConnection } from './tcp-proxy.js';
export { HistoryRecorder, type Operation, type PendingOperation } from './linearizability/history.js';
export { kvModel, type KvCompare, type KvInput, type KvOutput } from './linearizability/kv-model.js';
export type { CheckResult, Model } from './linearizability/model.js';
export { checkPerKey, type KeyedResult } from './linearizability/per-key.js';
export { settleUnknownWrites } from './linearizability/settle-writes.js';
export { checkOperations } from './linearizability/wing-gong.js';
export { checkWatchDelivery, type DeliveredEvent, type WatchLog } from './linearizability/watch-delivery.js';
