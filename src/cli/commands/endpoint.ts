import { Command } from 'commander';
import type { EtcdClient } from '../../client/client.js';
import { errorMessage, StrataError, UsageError } from '../../util/errors.js';
import { addClientFlags, withClient } from '../flags/client-flags.js';
import { addOutputFlags, outputFromFlags } from '../flags/output-flags.js';
import {
  printEndpointHashKV,
  printEndpointHealth,
  printEndpointStatus,
  type EndpointHashKV,
  type EndpointHealth,
  type EndpointStatus,
  type Printed,
} from '../output/cluster-printers.js';
import { goDuration } from '../output/go-format.js';
import { action } from '../run-action.js';

type Opts = Record<string, unknown>;

/** The endpoints to report on: the flags' list, or with --cluster every member's client URLs. */
async function targets(client: EtcdClient, opts: Opts): Promise<string[]> {
  if (opts['cluster'] !== true) return client.endpoints;
  const members = await client.memberList();
  return members.members.flatMap((m) => m.clientURLs);
}

/**
 * Asks each endpoint on its own (no failover to another member), in order. Failures are
 * reported one line each on stderr, as etcdctl does, and counted; the answers are returned.
 */
async function perEndpoint<T>(
  client: EtcdClient,
  opts: Opts,
  what: string,
  ask: (one: EtcdClient) => Promise<T>,
): Promise<{ answers: Array<{ endpoint: string; answer: T }>; failures: number }> {
  const endpoints = await targets(client, opts);
  const results = await Promise.all(
    endpoints.map(async (endpoint) => {
      const one = client.atEndpoint(endpoint);
      try {
        return { endpoint, answer: await ask(one) };
      } catch (err) {
        process.stderr.write(`Failed to get the ${what} of endpoint ${endpoint} (${errorMessage(err)})\n`);
        return undefined;
      } finally {
        one.close();
      }
    }),
  );
  const answers: Array<{ endpoint: string; answer: T }> = [];
  for (const result of results) if (result !== undefined) answers.push(result as { endpoint: string; answer: T });
  return { answers, failures: results.length - answers.length };
}

function emit(printed: Printed): void {
  process.stdout.write(printed.out);
  if (printed.err) process.stderr.write(printed.err);
}

export function registerEndpointCommands(program: Command): void {
  const endpoint = program.command('endpoint').description('Endpoint related commands');
  const sub = (name: string, description: string): Command =>
    addOutputFlags(addClientFlags(endpoint.command(name).description(description))).option(
      '--cluster',
      'use all endpoints from the cluster member list',
    );

  sub('status', 'Prints out the status of endpoints specified in `--endpoints` flag').action(
    action(async (opts: Opts) => {
      const output = outputFromFlags(opts);
      const failures = await withClient(opts, async (client) => {
        const { answers, failures } = await perEndpoint(client, opts, 'status', (one) => one.status());
        const list: EndpointStatus[] = answers.map(({ endpoint, answer }) => ({ endpoint, status: answer }));
        emit(printEndpointStatus(list, output));
        return failures;
      });
      if (failures > 0) throw new StrataError('ETCD_ENDPOINT_STATUS', `could not get the status of ${failures} endpoint(s)`);
    }),
  );

  sub('health', 'Checks the healthiness of endpoints specified in `--endpoints` flag').action(
    action(async (opts: Opts) => {
      const output = outputFromFlags(opts);
      const list = await withClient(opts, async (client) => {
        const endpoints = await targets(client, opts);
        return Promise.all(endpoints.map((endpoint) => checkHealth(client.atEndpoint(endpoint), endpoint)));
      });
      emit(printEndpointHealth(list, output));
      if (list.some((h) => !h.health)) throw new StrataError('ETCD_UNHEALTHY', 'unhealthy cluster');
    }),
  );

  sub('hashkv', 'Prints the KV history hash for each endpoint in --endpoints')
    .option('--rev <revision>', 'maximum revision to hash (default: latest revision)', '0')
    .action(
      action(async (opts: Opts) => {
        const output = outputFromFlags(opts);
        const rev = String(opts['rev']);
        if (!/^\d+$/.test(rev)) throw new UsageError(`Invalid --rev '${rev}': expected a revision number`);
        const failures = await withClient(opts, async (client) => {
          const { answers, failures } = await perEndpoint(client, opts, 'hash', (one) => one.hashKV(rev));
          const list: EndpointHashKV[] = answers.map(({ endpoint, answer }) => ({ endpoint, hashKV: answer }));
          emit(printEndpointHashKV(list, output));
          return failures;
        });
        if (failures > 0) throw new StrataError('ETCD_ENDPOINT_HASHKV', `could not get the hash of ${failures} endpoint(s)`);
      }),
    );
}

/**
 * etcdctl's check: a linearizable read of the key "health" goes through consensus ("permission
 * denied" still proves that), then no alarm may be active.
 */
async function checkHealth(client: EtcdClient, endpoint: string): Promise<EndpointHealth> {
  const started = process.hrtime.bigint();
  let error = '';
  try {
    try {
      await client.range({ key: 'health' });
    } catch (err) {
      const { EtcdRequestError } = await import('../../client/errors.js');
      if (!(err instanceof EtcdRequestError && err.etcdName === 'permissionDenied')) throw err;
    }
    const took = goDuration(process.hrtime.bigint() - started);
    try {
      const alarms = await client.alarm('GET');
      if (alarms.alarms.length > 0) error = `Active Alarm(s): ${alarms.alarms.map((a) => (a.alarm === 'NONE' ? 'UNKNOWN' : a.alarm)).join(' ')} `;
    } catch {
      error = 'Unable to fetch the alarm list';
    }
    return { endpoint, health: error === '', took, error };
  } catch (err) {
    return { endpoint, health: false, took: goDuration(process.hrtime.bigint() - started), error: errorMessage(err) };
  } finally {
    client.close();
  }
}
