import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../api/etcd-proto.js';
import { StrataError } from '../util/errors.js';
import type { Endpoint } from './endpoints.js';

/** TLS material as bytes (the CLI reads the files, so a missing file is reported by its flag). */
export interface TlsOptions {
  /** PEM CA bundle that signs the server certificates; the system roots when absent. */
  readonly ca?: Buffer | undefined;
  /** PEM client certificate and key for mutual TLS. */
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** Accept any server certificate (like etcdctl's --insecure-skip-tls-verify); testing only. */
  readonly insecureSkipVerify?: boolean | undefined;
  /** Check the server certificate against this name instead of the endpoint's host. */
  readonly serverName?: string | undefined;
}

export interface ChannelSettings {
  readonly tls: TlsOptions | undefined;
  /** Whether endpoints without a scheme use TLS. */
  readonly secureByDefault: boolean;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** The grpc-js service stubs of one endpoint, all sharing one channel (one HTTP/2 connection). */
export interface Stubs {
  readonly KV: grpc.Client;
  readonly Watch: grpc.Client;
  readonly Lease: grpc.Client;
  readonly Cluster: grpc.Client;
  readonly Maintenance: grpc.Client;
}
export type ServiceName = keyof Stubs;

export type ReadyResult = { ok: true } | { ok: false; timedOut: boolean };

// Large ranges and snapshot streams: no receive limit and a 16 MiB flow-control window (see
// shared/reference/dependency-facts.md; grpc-js names the window 'grpc-node.flow_control_window').
const channelOptions = (settings: ChannelSettings, tlsServerName: string | undefined): grpc.ChannelOptions => ({
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
  'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
  // Per-call counters and traces for a channelz service nobody queries; they cost CPU per request.
  'grpc.enable_channelz': 0,
  ...(tlsServerName === undefined ? {} : { 'grpc.ssl_target_name_override': tlsServerName }),
});

function credentialsFor(endpoint: Endpoint, settings: ChannelSettings): grpc.ChannelCredentials {
  if (!(endpoint.secure ?? settings.secureByDefault)) return grpc.credentials.createInsecure();
  const material = settings.tls ?? {};
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new StrataError('ETCD_TLS_CONFIG', 'A client certificate needs its key and a key needs its certificate; pass both --cert and --key');
  }
  try {
    return grpc.credentials.createSsl(material.ca ?? null, material.key ?? null, material.cert ?? null, {
      ...(material.insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {}),
    });
  } catch (err) {
    throw new StrataError('ETCD_TLS_CONFIG', `Cannot use the TLS files: ${(err as Error).message}; check --cacert, --cert and --key`, {
      cause: err,
    });
  }
}

/** One endpoint's channel and stubs; connects lazily and reconnects by itself. */
export class Connection {
  readonly endpoint: Endpoint;
  readonly stubs: Stubs;
  private readonly channel: grpc.Channel;

  constructor(endpoint: Endpoint, settings: ChannelSettings) {
    this.endpoint = endpoint;
    const credentials = credentialsFor(endpoint, settings);
    const options = channelOptions(settings, settings.tls?.serverName);
    this.channel = new grpc.Channel(endpoint.address, credentials, options);
    const services = etcdServices();
    const stub = (ctor: grpc.ServiceClientConstructor): grpc.Client =>
      new ctor(endpoint.address, credentials, { ...options, channelOverride: this.channel });
    this.stubs = {
      KV: stub(services.KV),
      Watch: stub(services.Watch),
      Lease: stub(services.Lease),
      Cluster: stub(services.Cluster),
      Maintenance: stub(services.Maintenance),
    };
  }

  /**
   * Waits until the channel is connected, it fails to connect, or the deadline passes. A
   * failed connect returns at once (the next call fails fast and names the transport error).
   */
  ready(deadline: number): Promise<ReadyResult> {
    return new Promise((resolve) => {
      const check = (): void => {
        const state = this.channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve({ ok: true });
        if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
          return resolve({ ok: false, timedOut: false });
        }
        if (Date.now() >= deadline) return resolve({ ok: false, timedOut: true });
        this.channel.watchConnectivityState(state, deadline, (err) => (err ? resolve({ ok: false, timedOut: true }) : check()));
      };
      check();
    });
  }

  close(): void {
    for (const stub of Object.values(this.stubs)) stub.close();
    this.channel.close();
  }
}
