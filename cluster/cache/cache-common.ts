/**
 * What both sides of the cache's protocol share (`cache-engine.ts`, the node; `cache-home.ts`, the
 * home): the write policies, the counters, and the failure that carries its reply.
 */
import type { ServiceReply } from '../node/reply.js';

/** When main memory is written. */
export type WritePolicy = 'write-through' | 'write-back';
export const WRITE_POLICIES: readonly WritePolicy[] = ['write-through', 'write-back'];

/** Counters since the node started. */
export interface CacheCounters {
  hits: number;
  misses: number;
  /** Reads that found a copy whose lease had run out. */
  leaseExpiries: number;
  invalidationsSent: number;
  invalidationsReceived: number;
  /** Downgrades the home asked for (Modified/Exclusive → Shared). */
  downgrades: number;
  /** Dirty values written to the store (by a downgrade, an eviction or a lease renewal). */
  writebacks: number;
  /** Dirty values that could not be written back (the home unreachable, or it no longer lists the line): lost. */
  writebacksLost: number;
  evictions: number;
  /** Times a home went on past a holder it could not reach, once that holder's lease was surely over. */
  leaseWaits: number;
  /** Writes done in place (write-back, the line Exclusive or Modified). */
  localWrites: number;
}

/** A failed operation: the reply to send (503 unavailable, 409 not-home, …). */
export class CacheFailure extends Error {
  readonly reply: ServiceReply;
  constructor(reply: ServiceReply) {
    super(String(reply.body['message']));
    this.reply = reply;
  }
}
