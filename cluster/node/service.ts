/**
 * The service contract of a node: the lock manager, the queue and the cache are each a
 * {@link NodeService} that the node (`node.ts`) composes — its routes, its part of `/status`,
 * `/metrics` and `/openapi.json`, what it does when Raft leadership moves, and how it closes.
 *
 * A service is started in two steps by its {@link ServiceFactory}: `prepare()` before the node's
 * Raft starts (a service that replicates through the Raft log hands over its state machine
 * there), then `start(ctx)` with everything the node offers (its id and members, its data dir,
 * the Raft node, Raft groups of its own, peer forwarding, a logger, the metrics registry).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RaftNode, StateMachine } from '../raft/raft-node.js';
import type { Role } from '../raft/types.js';
import type { FileIo } from '../raft/file-io.js';
import type { Forwarder } from './forwarder.js';
import type { ForwardedServe } from './forward-channel.js';
import type { OpenRaftGroup } from './raft-group.js';

/** Serves one request; `param` is the path's captured tail for a prefix route. Throw `HttpError` for a 4xx. */
export type Handler = (req: IncomingMessage, res: ServerResponse, param: string | undefined) => Promise<void>;

/** One route of the node's HTTP API. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /**
   * Exact path; a prefix ending in `/` that captures one more path segment as `param`; or a
   * template with one `{name}` segment (e.g. `/queue/{queue}/enqueue`) that captures it.
   */
  readonly path: string;
  /** The route's name in metrics and logs, e.g. `lock-acquire`. */
  readonly name: string;
  readonly handler: Handler;
  /**
   * Serves the request when a peer forwards it here over its stream (`forward-channel.ts`),
   * without forwarding it again. A route without it is forwarded as an HTTP request.
   */
  readonly serve?: ForwardedServe;
}

/** What the node gives a service when it starts it. */
export interface ServiceContext {
  /** This node's id. */
  readonly id: string;
  /** Every member (this one included): id → host:port. */
  readonly members: ReadonlyMap<string, string>;
  /** The node's data dir; a service keeps its own files in a sub-folder named after it. */
  readonly dataDir: string;
  /** The file-system calls a service's durable files make (the Raft storage's: `LazyFileIo` in loss tests). */
  readonly io: FileIo;
  /** The node's Raft node (the state machine is the service's own if its plan handed one over). */
  readonly raft: RaftNode;
  /**
   * Opens a Raft group of the service's own among some of the members (its storage under the
   * data dir, its peer streams); the node stops it after the service closes.
   */
  readonly openRaftGroup: OpenRaftGroup;
  /** Forwards a client request to a peer (the leader, a queue's owner, a key's home). */
  readonly forwarder: Forwarder;
  /** A child logger tagged with the service's name. */
  readonly log: Logger;
  /** The node's Prometheus registry: register the service's metrics here. */
  readonly registry: Registry;
  /** Largest client body, bytes. */
  readonly bodyLimit: number;
  /** How long a request may wait for the quorum, leader or owner it needs, ms. */
  readonly requestTimeoutMs: number;
}

/** A running service. */
export interface NodeService {
  readonly name: string;
  readonly routes: readonly Route[];
  /** Its OpenAPI 3.1 `paths` (and `components.schemas`), merged into the node's document. */
  readonly openapi: { readonly paths: Record<string, unknown>; readonly schemas?: Record<string, unknown> };
  /** Its part of `/status` (under `services.<name>`). */
  status(): Record<string, unknown>;
  /** Raft leadership moved (this node's role, the term, the leader if known). */
  onLeadership?(role: Role, term: number, leader: string | null): void;
  /** Stops timers and answers waiting requests; called before the node stops Raft. */
  close(): void | Promise<void>;
}

/** A service between `prepare()` and `start()`. */
export interface ServicePlan {
  /** The state machine the node's Raft log drives, for a service that replicates through it. */
  readonly machine?: StateMachine;
  start(ctx: ServiceContext): NodeService | Promise<NodeService>;
}

/** How a node makes a service: the entry of the node's list of services. */
export interface ServiceFactory {
  readonly name: string;
  /** Called once per node start, before Raft opens. */
  prepare(): ServicePlan;
}
