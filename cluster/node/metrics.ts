/**
 * The node's Prometheus metrics (prom-client), in a registry of its own so that several nodes
 * can live in one process (tests): Raft, HTTP and peer traffic. Each service registers its own
 * in the same registry (see `ServiceContext.registry`). Values already counted elsewhere are
 * read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RaftStatus } from '../raft/core.js';
import { processSyncCount } from '../raft/record-file.js';
import { countSocketBytes, socketBytes } from './socket-bytes.js';

/** What the metrics read at scrape time. */
export interface MetricSources {
  status(): RaftStatus;
  peerStats(): { sent: number; dropped: number; requests: number; failures: number };
  /** Client requests forwarded over the peer streams (`forward-channel.ts`). */
  forwardStats(): { sent: number; unanswered: number; served: number };
}

/** A counter whose value is read from `read` at scrape time. */
export function observedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** The metrics of one node. */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly elections: Counter;
  readonly leaderChanges: Counter;
  readonly committed: Counter;
  readonly snapshots: Counter;
  readonly snapshotsInstalled: Counter;
  readonly fsync: Histogram;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly httpDuration: Histogram<'route'>;

  constructor(sources: MetricSources, labels: { node: string }) {
    const r = this.registry;
    r.setDefaultLabels(labels);
    collectDefaultMetrics({ register: r });
    this.elections = new Counter({ name: 'dsync_raft_elections_total', help: 'Elections this node started (became candidate)', registers: [r] });
    this.leaderChanges = new Counter({ name: 'dsync_raft_leader_changes_total', help: 'Times this node saw a new leader', registers: [r] });
    this.committed = new Counter({ name: 'dsync_raft_entries_applied_total', help: 'Committed log entries applied to the state machine', registers: [r] });
    this.snapshots = new Counter({ name: 'dsync_raft_snapshots_total', help: 'Snapshots taken (log compactions)', registers: [r] });
    this.snapshotsInstalled = new Counter({ name: 'dsync_raft_snapshots_installed_total', help: 'Snapshots received from the leader and installed', registers: [r] });
    this.fsync = new Histogram({
      name: 'dsync_raft_persist_seconds',
      help: 'Time to make one Raft ready durable (write + fdatasync; one per batch of entries)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [r],
    });
    this.httpRequests = new Counter({ name: 'dsync_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [r] });
    this.httpDuration = new Histogram({
      name: 'dsync_http_request_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    const gauge = (name: string, help: string, read: (s: RaftStatus) => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read(sources.status()));
        },
      });
    };
    gauge('dsync_raft_term', 'Current term', (s) => s.term);
    gauge('dsync_raft_commit_index', 'Commit index', (s) => s.commitIndex);
    gauge('dsync_raft_applied_index', 'Last applied index', (s) => s.lastApplied);
    gauge('dsync_raft_last_index', 'Last log index', (s) => s.lastIndex);
    gauge('dsync_raft_snapshot_index', 'Index of the latest snapshot', (s) => s.snapshotIndex);
    gauge('dsync_raft_is_leader', '1 if this node is the leader', (s) => (s.role === 'leader' ? 1 : 0));
    observedCounter(r, 'dsync_peer_messages_sent_total', 'Raft messages delivered to peers', () => sources.peerStats().sent);
    observedCounter(r, 'dsync_peer_messages_dropped_total', 'Raft messages dropped (peer unreachable or queue full)', () => sources.peerStats().dropped);
    observedCounter(r, 'dsync_forwarded_requests_total', 'Client requests forwarded to peers over the forwarding streams', () => sources.forwardStats().sent);
    observedCounter(r, 'dsync_forwarded_unanswered_total', 'Forwarded requests answered 503 here (no answer in time, or the stream broke)', () => sources.forwardStats().unanswered);
    countSocketBytes();
    observedCounter(r, 'dsync_socket_bytes_read_total', 'TCP bytes this process read (clients, peers, Redis), since the node started', () => socketBytes().read);
    observedCounter(r, 'dsync_socket_bytes_written_total', 'TCP bytes this process wrote (clients, peers, Redis), since the node started', () => socketBytes().written);
    observedCounter(r, 'dsync_fsyncs_total', 'fsync and fdatasync calls of this process (Raft logs, service groups, the cache store)', processSyncCount);
    observedCounter(r, 'dsync_forwarded_served_total', 'Requests peers forwarded here and this node served', () => sources.forwardStats().served);
  }
}
