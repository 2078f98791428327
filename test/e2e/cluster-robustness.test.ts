// Issue 4, must-show 2: three members on loopback, every peer link through a proxy of ours;
// concurrent clients (puts, compare-and-swap txns, linearizable gets, prefix watches) while a
// seeded schedule kills members (one, or now and then all) with kill -9 and restarts them,
// pauses them with SIGSTOP/SIGCONT, isolates them or cuts one direction through the proxies,
// and slows links. Then: the history is linearizable per key, every watch got every revision
// once and in order, and every member reports the same HashKV at the same applied index.
// Frequent raft snapshots make a lagging member catch up by snapshot (the second test pins
// down a watch across one). STRATA_TEST_SEED replays a schedule's choices (not its timing);
// STRATA_ROBUSTNESS_MS sets how long the faults run (default 45 s). A failed run keeps logs,
// history and watch logs in a directory it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import type { KeyValue } from '../../src/api/etcd-types.js';
import { EtcdClient } from '../../src/client/client.js';
import {
  HistoryRecorder,
  PeerNetwork,
  checkPerKey,
  linuxOnly,
  checkWatchDelivery,
  eventually,
  kvModel,
  seededRandom,
  settleUnknownWrites,
  tempDir,
  type DeliveredEvent,
  type KvCompare,
  type KvInput,
  type KvOutput,
  type RunningProcess,
  type WatchLog,
} from '../support/index.js';
import { initialCluster, proxiedSpawn, startMember, startProxiedCluster, type ClusterMember } from './strata-cluster.js';

const seed = Number(process.env['STRATA_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const faultMs = Number(process.env['STRATA_ROBUSTNESS_MS'] ?? 45_000);
const PREFIX = '/robust/';
const KEYS = Array.from({ length: 5 }, (_, i) => `${PREFIX}k${i}`);
const WRITERS = 4;
const TOKEN = 'robustness';
// Raft snapshots every 100 entries keeping 20 for catch-up: a member down for a second or two
// falls behind the leader's log and must be sent a snapshot, so restarts exercise that path.
const SNAPSHOT_ARGS = ['--snapshot-count', '100', '--experimental-snapshot-catchup-entries', '20'];

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const bytes = (text: string): Buffer => Buffer.from(text);

/** A writer's last read of a key: what its next CAS on the key compares with. */
interface LastRead {
  value: string | null;
  modRevision: number;
}

/** Everything the clients saw, shared by the checks at the end. */
class Observations {
  readonly recorder = new HistoryRecorder<KvInput, KvOutput>();
  /** The write each revision committed, as some client learned it. */
  readonly committed = new Map<number, { key: string; value: string }>();
  readonly problems: string[] = [];
  /** The longest time no write succeeded, and when it ended: how long the faults kept the cluster from writing. */
  longestOutage = { ms: 0, endedAt: 0 };
  private lastWrite = Date.now();

  /** A write succeeded. */
  wrote(): void {
    const now = Date.now();
    if (now - this.lastWrite > this.longestOutage.ms) this.longestOutage = { ms: now - this.lastWrite, endedAt: now };
    this.lastWrite = now;
  }

  /** A client learned that `key` = `value` was written at `revision`. */
  observe(revision: number, key: string, value: string): void {
    const known = this.committed.get(revision);
    if (!known) this.committed.set(revision, { key, value });
    else if (known.key !== key || known.value !== value) {
      this.problems.push(`revision ${revision} was seen as ${known.key}=${known.value} and as ${key}=${value}`);
    }
  }
}

/** One client doing puts, CAS txns and linearizable gets on the shared keys until `done()`. */
async function runWriter(id: number, client: EtcdClient, random: () => number, seen: Observations, done: () => boolean): Promise<void> {
  const lastRead = new Map<string, LastRead>();
  for (let n = 0; !done(); n++) {
    const key = pick(random, KEYS);
    const roll = random();
    if (roll < 0.4) await get(id, client, key, seen, lastRead);
    else if (roll < 0.7) {
      const value = `c${id}-${n}`;
      const op = seen.recorder.invoke(id, { key, kind: 'put', value });
      try {
        const res = await client.put({ key, value });
        op.ok({ kind: 'put' });
        seen.wrote();
        seen.observe(Number(res.header!.revision), key, value);
      } catch {
        op.unknown();
      }
    } else {
      const last = lastRead.get(key) ?? { value: null, modRevision: 0 };
      const byValue = last.value !== null && random() < 0.5;
      const compare: KvCompare = byValue ? { value: last.value } : { modRevision: last.modRevision };
      const value = `c${id}-${n}`;
      const op = seen.recorder.invoke(id, { key, kind: 'cas', compare, value });
      try {
        const res = await client.txn({
          compare: [
            byValue
              ? { key: bytes(key), result: 'EQUAL', target: 'VALUE', value: bytes(last.value!) }
              : { key: bytes(key), result: 'EQUAL', target: 'MOD', mod_revision: String(last.modRevision) },
          ],
          success: [{ request_put: { key: bytes(key), value: bytes(value) } }],
          failure: [{ request_range: { key: bytes(key) } }],
        });
        const revision = Number(res.header!.revision);
        if (res.succeeded) {
          op.ok({ kind: 'cas', succeeded: true });
          seen.wrote();
          seen.observe(revision, key, value);
          lastRead.set(key, { value, modRevision: revision });
        } else {
          const kv = res.responses[0]?.response_range?.kvs[0];
          op.ok({ kind: 'cas', succeeded: false, current: kv ? kv.value.toString() : null });
          noteRead(key, kv, seen, lastRead);
        }
      } catch {
        op.unknown();
      }
    }
  }
}

async function get(
  id: number,
  client: EtcdClient,
  key: string,
  seen: Observations,
  lastRead: Map<string, LastRead>,
): Promise<void> {
  const op = seen.recorder.invoke(id, { key, kind: 'get' });
  try {
    const res = await client.range({ key });
    const kv = res.kvs[0];
    op.ok({ kind: 'get', value: kv ? kv.value.toString() : null });
    noteRead(key, kv, seen, lastRead);
  } catch {
    // A read that failed changed nothing.
    op.failed();
  }
}

/** What a read of `key` (absent when `kv` is undefined) taught: its write's revision, and what the next CAS compares with. */
function noteRead(key: string, kv: KeyValue | undefined, seen: Observations, lastRead: Map<string, LastRead>): void {
  if (kv) seen.observe(Number(kv.mod_revision), key, kv.value.toString());
  lastRead.set(key, kv ? { value: kv.value.toString(), modRevision: Number(kv.mod_revision) } : { value: null, modRevision: 0 });
}

/** A prefix watch from `startRevision`; the client's stream resumes from last+1 after a reconnect. */
function startWatcher(
  name: string,
  client: EtcdClient,
  startRevision: number,
  seen: Observations,
): WatchLog & { lastRevision(): number; reconnects(): number; close(): void } {
  const events: DeliveredEvent[] = [];
  const stream = client.watchStream();
  const watch = stream.watch({ key: PREFIX, range_end: PREFIX.slice(0, -1) + String.fromCharCode(PREFIX.charCodeAt(PREFIX.length - 1) + 1), start_revision: String(startRevision) });
  watch.on('events', (batch) => {
    for (const e of batch) {
      events.push({ revision: Number(e.kv!.mod_revision), key: e.kv!.key.toString(), value: e.type === 'DELETE' ? null : e.kv!.value.toString() });
    }
  });
  watch.on('canceled', (cancel) => seen.problems.push(`${name}: the server canceled the watch: ${cancel.reason} (compact revision ${cancel.compactRevision})`));
  watch.on('error', (err) => seen.problems.push(`${name}: ${err.message}`));
  return {
    name,
    startRevision,
    events,
    lastRevision: () => events[events.length - 1]?.revision ?? startRevision - 1,
    reconnects: () => stream.reconnectCount,
    close: () => stream.close(),
  };
}

test(`three proxied members under kill -9, SIGSTOP and partitions stay linearizable with complete watches and one HashKV (seed ${seed})`, { timeout: 300_000, skip: linuxOnly }, async (t) => {
  const started = Date.now();
  const random = seededRandom(seed);
  const root = tempDir('robustness', t);
  const network = new PeerNetwork();
  const members = await startProxiedCluster(['r1', 'r2', 'r3'], root.path, TOKEN, network, SNAPSHOT_ARGS);
  const cluster = initialCluster(members);
  const earlierLogs = new Map<string, string>(members.map((m) => [m.name, '']));
  const logOf = (m: ClusterMember): string => earlierLogs.get(m.name)! + (m.running?.stderr ?? '');
  const clients: EtcdClient[] = [];
  const client = (endpoints: string[], seedOffset: number): EtcdClient => {
    const c = new EtcdClient({
      endpoints,
      requestTimeoutMs: 3000,
      dialTimeoutMs: 1000,
      keepaliveTimeMs: 2000,
      keepaliveTimeoutMs: 2000,
      random: seededRandom(seed + seedOffset),
    });
    clients.push(c);
    return c;
  };
  const rotated = (i: number): string[] => members.map((_, j) => members[(i + j) % members.length]!.clientUrl);
  const direct = members.map((m, i) => client([m.clientUrl], 100 + i));
  const watchers: Array<ReturnType<typeof startWatcher>> = [];
  t.after(async () => {
    // A watch stream outlives its client's close() (it keeps redialing), so close it first.
    for (const w of watchers) w.close();
    for (const c of clients) c.close();
    await Promise.all(
      members.map(async (m) => {
        if (!m.running) return;
        m.running.child.kill('SIGCONT');
        await m.running.stop('SIGKILL');
      }),
    );
    await network.close();
  });

  // Member IDs never change, restarts included.
  const memberIds = await Promise.all(direct.map(async (c) => (await c.status()).header!.member_id));
  /** The index of the member that every member of `among` names as leader, once they agree. */
  const agreedLeader = async (among: readonly ClusterMember[] = members): Promise<number | undefined> => {
    const statuses = await Promise.all(among.map((m) => direct[members.indexOf(m)]!.status({ timeoutMs: 1000 }).catch(() => undefined)));
    const leaders = new Set(statuses.map((s) => s?.leader));
    const leader = statuses[0]?.leader;
    if (leaders.size !== 1 || leader === undefined || !memberIds.includes(leader)) return undefined;
    return memberIds.indexOf(leader);
  };
  const healthy = async (): Promise<number> => {
    let leader: number | undefined;
    await eventually(async () => (leader = await agreedLeader()) !== undefined, 'every member to agree on a leader', 30_000);
    return leader!;
  };

  const faults: string[] = [];
  const seen = new Observations();
  const problems: string[] = [];
  let stopping = false;
  const restart = async (m: ClusterMember): Promise<void> => {
    const tellProxies = proxiedSpawn(network, m);
    // Held at once, so cleanup stops a member that never got ready too.
    const onSpawn = (running: RunningProcess): void => {
      m.running = running;
      tellProxies(running);
    };
    await startMember(m, { root: root.path, cluster, state: 'new', token: TOKEN, extraArgs: SNAPSHOT_ARGS, onSpawn });
  };
  const crash = async (m: ClusterMember): Promise<void> => {
    const ended = await m.running!.stop('SIGKILL');
    earlierLogs.set(m.name, earlierLogs.get(m.name)! + ended.stderr);
    m.running = undefined;
    network.setPid(m.name, undefined);
  };
  const injectFault = async (): Promise<void> => {
    const leader = await healthy();
    const onLeader = random() < 0.5;
    const target = members[onLeader ? leader : (leader + 1 + Math.floor(random() * 2)) % 3]!;
    const role = onLeader ? 'leader' : 'follower';
    const kind = random() < 0.08 ? 'crash-all' : pick(random, ['kill', 'pause', 'isolate', 'one-way', 'slow'] as const);
    const hold = 1000 + Math.floor(random() * 2500);
    const at = `${((Date.now() - started) / 1000).toFixed(1)}s`;
    switch (kind) {
      case 'kill':
        faults.push(`${at} kill -9 ${role} ${target.name}, restart after ${hold} ms`);
        await crash(target);
        await pause(hold);
        await restart(target);
        break;
      case 'crash-all':
        // Every member at once: only what each had made durable survives, and acknowledged writes must be there.
        faults.push(`${at} kill -9 every member, restart after ${hold} ms`);
        await Promise.all(members.map(crash));
        await pause(hold);
        await Promise.all(members.map(restart));
        break;
      case 'pause':
        faults.push(`${at} SIGSTOP ${role} ${target.name} for ${hold} ms`);
        target.running!.child.kill('SIGSTOP');
        await pause(hold);
        target.running!.child.kill('SIGCONT');
        break;
      case 'isolate': {
        const how = random() < 0.5 ? 'blackhole' : 'drop';
        faults.push(`${at} isolate ${role} ${target.name} (${how}) for ${hold} ms`);
        network.isolate(target.name, how);
        const cutAt = Date.now();
        if (onLeader) {
          // Proof that the proxies really cut the leader off: the other two elect one of themselves.
          const others = members.filter((m) => m !== target);
          await eventually(async () => {
            const elected = await agreedLeader(others);
            return elected !== undefined && members[elected] !== target;
          }, `the members cut off from leader ${target.name} to elect another`, 20_000).catch((err: Error) => problems.push(err.message));
        }
        await pause(Math.max(0, hold - (Date.now() - cutAt)));
        network.heal();
        break;
      }
      case 'one-way': {
        // An asymmetric partition: the target still hears the others, they no longer hear it.
        const other = members.find((m) => m !== target && random() < 0.5) ?? members.find((m) => m !== target)!;
        faults.push(`${at} cut ${target.name}->${other.name} one way for ${hold} ms`);
        network.cutOneWay(target.name, other.name);
        await pause(hold);
        network.heal();
        break;
      }
      case 'slow': {
        const other = members.find((m) => m !== target && random() < 0.5) ?? members.find((m) => m !== target)!;
        const ms = 20 + Math.floor(random() * 120);
        faults.push(`${at} delay ${target.name}<->${other.name} by ${ms} ms for ${hold} ms`);
        network.delay(target.name, other.name, ms);
        await pause(hold);
        network.heal();
        break;
      }
    }
  };

  try {
    await healthy();
    const startRevision = Number((await direct[0]!.status()).header!.revision) + 1;
    watchers.push(...members.map((_, i) => startWatcher(`watcher ${i + 1}`, client(rotated(i), 200 + i), startRevision, seen)));
    const writers = Array.from({ length: WRITERS }, (_, i) => runWriter(i + 1, client(rotated(i), 300 + i), seededRandom(seed + 1000 + i), seen, () => stopping));

    // Compacting behind every watcher exercises compaction under faults (applied and replayed
    // by every member, so HashKV still agrees) without cancelling a watch that keeps up.
    let compacted = 0;
    const admin = client(rotated(0), 500);
    const compactBehindWatchers = async (): Promise<void> => {
      const revision = Math.min(...watchers.map((w) => w.lastRevision())) - 1;
      if (revision <= compacted) return;
      try {
        await admin.compact(String(revision));
        compacted = revision;
        faults.push(`compacted at revision ${revision}`);
      } catch {
        // A member down or cut off: the next round tries again.
      }
    };
    const faultDeadline = Date.now() + faultMs;
    while (Date.now() < faultDeadline) {
      await injectFault();
      if (random() < 0.4) await compactBehindWatchers();
      await pause(300 + Math.floor(random() * 1000));
    }
    stopping = true;
    await Promise.all(writers);
    network.heal();
    await healthy();

    // Reads after the dust settled belong to the history too: they must see the last writes.
    const reader = client(rotated(0), 400);
    for (const key of KEYS) await get(0, reader, key, seen, new Map());

    // The same revision is not enough: a compaction is a raft entry that moves no revision,
    // and HashKV covers history from the compacted revision on, so wait for one applied index.
    let finalRevision = 0;
    await eventually(async () => {
      const statuses = await Promise.all(direct.map((c) => c.status({ timeoutMs: 1000 }).catch(() => undefined)));
      const points = new Set(statuses.map((s) => (s ? `${s.header!.revision}@${s.raftAppliedIndex}` : 'down')));
      finalRevision = Number(statuses[0]?.header?.revision ?? 0);
      return points.size === 1 && !points.has('down');
    }, 'every member to apply the same entries', 60_000);
    const hashes = await Promise.all(direct.map((c) => c.hashKV(String(finalRevision))));
    if (hashes.some((h) => h.hash !== hashes[0]!.hash || h.compact_revision !== hashes[0]!.compact_revision)) {
      const each = members.map((m, i) => `${m.name}=${hashes[i]!.hash} (compacted at ${hashes[i]!.compact_revision})`);
      problems.push(`HashKV at revision ${finalRevision} differs: ${each.join(', ')}`);
    }

    await eventually(() => watchers.every((w) => w.lastRevision() >= finalRevision), `every watch to deliver revision ${finalRevision}`, 60_000).catch(
      (err: Error) => problems.push(`${err.message}: at ${watchers.map((w) => w.lastRevision()).join(', ')}`),
    );
    const finalValues = new Map<string, string | null>();
    for (const key of KEYS) {
      const kv = (await direct[0]!.range({ key, revision: String(finalRevision) })).kvs[0];
      finalValues.set(key, kv ? kv.value.toString() : null);
    }
    problems.push(...checkWatchDelivery(watchers, finalRevision, seen.committed, finalValues));

    const checkStarted = Date.now();
    const ops = seen.recorder.operations();
    const written = new Set(watchers.flatMap((w) => w.events.map((e) => e.value)));
    const settled = settleUnknownWrites(ops, (value) => written.has(value));
    const model = kvModel((revision) => seen.committed.get(revision)?.value);
    const results = checkPerKey(model, settled, (input) => input.key, { maxSteps: 5_000_000 });
    problems.push(...results.filter((r) => r.result.ok !== true).map((r) => `key ${r.key} (${r.operations} operations): ${'explanation' in r.result ? r.result.explanation : ''}`));
    const unknown = ops.filter((op) => op.output === undefined).length;
    t.diagnostic(
      `seed ${seed}: ${ops.length} operations (${unknown} with unknown outcome, ${ops.length - settled.length} of them never written), final revision ${finalRevision}, ` +
        `${faults.length} scheduled events, check ${Date.now() - checkStarted} ms, total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // Partitions are only real if the proxies knew who dialed every peer connection.
    for (const c of network.connections()) if (c.from === undefined) problems.push(`a peer connection to ${c.to} came from a process the proxy could not tell`);
  } catch (err) {
    stopping = true;
    problems.push(`the run stopped early: ${(err as Error).message.split('\n')[0]}`);
  }
  for (const m of members) {
    const child = m.running?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) problems.push(`${m.name} exited by itself (code ${child.exitCode}, signal ${child.signalCode})`);
  }
  const snapshotsSent = members.map((m) => logOf(m).split('"sending a snapshot to a member"').length - 1).reduce((a, b) => a + b, 0);
  t.diagnostic(`raft snapshots sent to lagging members: ${snapshotsSent}; watch streams resumed after a break: ${watchers.map((w) => w.reconnects()).join(', ')}`);
  const outage = seen.longestOutage;
  t.diagnostic(`longest time without a successful write: ${outage.ms} ms, ended at ${((outage.endedAt - started) / 1000).toFixed(1)}s`);
  for (const fault of faults) t.diagnostic(fault);
  problems.unshift(...seen.problems);
  const ops = seen.recorder.operations();
  if (problems.length > 0) {
    const kept = mkdtempSync(join(tmpdir(), 'strata-robustness-failure-'));
    for (const m of members) writeFileSync(join(kept, `${m.name}.log`), logOf(m));
    writeFileSync(join(kept, 'history.json'), JSON.stringify(ops, (_k, v: unknown) => (v === Infinity ? 'inf' : v), 1));
    writeFileSync(join(kept, 'faults.txt'), faults.join('\n'));
    writeFileSync(join(kept, 'watches.json'), JSON.stringify(watchers.map(({ name, startRevision, events }) => ({ name, startRevision, events }))));
    writeFileSync(join(kept, 'committed.json'), JSON.stringify([...seen.committed]));
    assert.fail(`seed ${seed}: ${problems.length} problem(s); member logs, history and faults kept in ${kept}\n${problems.slice(0, 20).join('\n')}`);
  }
  assert.ok(ops.length > 100, `seed ${seed}: only ${ops.length} operations completed; the test proves little`);
});

test('a watch on a member that catches up by raft snapshot keeps delivering every revision', { timeout: 120_000, skip: linuxOnly }, async (t) => {
  const root = tempDir('robustness-snapshot-watch', t);
  const network = new PeerNetwork();
  const members = await startProxiedCluster(['s1', 's2', 's3'], root.path, 'snapshot-watch', network, SNAPSHOT_ARGS);
  const clients = members.map((m) => new EtcdClient({ endpoints: [m.clientUrl], requestTimeoutMs: 5000 }));
  t.after(async () => {
    for (const c of clients) c.close();
    await Promise.all(members.map((m) => m.running?.stop('SIGKILL')));
    await network.close();
  });
  const memberIds = await Promise.all(clients.map(async (c) => (await c.status()).header!.member_id));
  let leader = -1;
  await eventually(async () => {
    const status = await clients[0]!.status();
    leader = memberIds.indexOf(status.leader);
    return leader >= 0;
  }, 'a leader');
  const lagging = (leader + 1) % 3;
  const writer = clients[leader]!;
  const start = Number((await writer.put({ key: `${PREFIX}first`, value: 'x' })).header!.revision) + 1;
  await eventually(async () => Number((await clients[lagging]!.status()).header!.revision) >= start - 1, 'the follower to apply the first write');

  const stream = clients[lagging]!.watchStream();
  t.after(() => stream.close());
  const delivered: number[] = [];
  const watch = stream.watch({ key: PREFIX, range_end: '/robust0', start_revision: String(start) });
  await new Promise((resolve) => watch.once('created', resolve));
  watch.on('events', (events) => delivered.push(...events.map((e) => Number(e.kv!.mod_revision))));

  // Cut off, the follower falls more than a snapshot interval behind; healed, it is sent a snapshot.
  network.isolate(members[lagging]!.name, 'drop');
  let last = 0;
  for (let i = 0; i < 250; i++) last = Number((await writer.put({ key: `${PREFIX}k${i % 5}`, value: `v${i}` })).header!.revision);
  network.heal();
  await members[lagging]!.running!.waitFor((_out, err) => err.includes('"installed a snapshot from the leader"'), 30_000, 'the follower to install a snapshot');
  await eventually(() => delivered.length > 0 && delivered[delivered.length - 1]! >= last, `the watch on the follower to deliver revision ${last}`, 30_000).catch(() => undefined);
  assert.deepEqual(
    delivered,
    Array.from({ length: last - start + 1 }, (_, i) => start + i),
    'every revision from the start, once and in order, across the snapshot install',
  );
});
