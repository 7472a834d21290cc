/**
 * Cluster authentication of peer RPC: every member holds the same secret, and a peer stream is
 * accepted only from a member that proves it holds it.
 *
 * The proof is a challenge-response per connection, so that it needs no synchronized clocks (the
 * harness skews node clocks by minutes on purpose) and cannot be replayed:
 *
 * 1. the sender asks `GET /internal/raft/challenge` for a nonce — random, single-use, valid for
 *    {@link CHALLENGE_TTL_MS} on the receiver's monotonic clock;
 * 2. it opens `POST /internal/raft/stream` with `x-dsync-from: <its id>`, `x-dsync-nonce` and
 *    `x-dsync-auth: HMAC-SHA256(secret, "dsync-peer-stream v1\n<from>\n<to>\n<nonce>")` (hex);
 * 3. the receiver takes the nonce out of its table (a second use fails), checks that `from` is
 *    another configured member, and compares the HMAC in constant time. Anything else: 401.
 *
 * The authenticated id is the connection's: every message on the stream must carry it as
 * `from` (checked in `routes.ts`). Without a secret (`--insecure`) no proof is asked for, but
 * `x-dsync-from` must still name another member and match every message's `from`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

/** The environment variable that may hold the cluster secret (instead of `--cluster-secret-file`). */
export const CLUSTER_SECRET_ENV = 'DSYNC_CLUSTER_SECRET';
/** The headers of an authenticated peer stream. */
export const PEER_FROM_HEADER = 'x-dsync-from';
export const PEER_NONCE_HEADER = 'x-dsync-nonce';
export const PEER_AUTH_HEADER = 'x-dsync-auth';
/** How long a challenge's nonce may be used. */
export const CHALLENGE_TTL_MS = 10_000;
/** Most nonces handed out and not yet used; past it the oldest is forgotten. */
export const MAX_OUTSTANDING_CHALLENGES = 1024;
/** The shortest secret accepted, bytes (after trimming a trailing newline). */
export const MIN_SECRET_BYTES = 16;

/**
 * Reads the cluster secret from `file` or, without one, from `$DSYNC_CLUSTER_SECRET`; `null` when
 * neither is given. A trailing newline in the file is ignored.
 * @throws RangeError naming the flag or variable: an unreadable file, one others may read, a secret shorter than {@link MIN_SECRET_BYTES}
 */
export function loadClusterSecret(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Buffer | null {
  let text: string;
  let source: string;
  if (file !== undefined) {
    source = `--cluster-secret-file ${file}`;
    try {
      const mode = statSync(file).mode;
      if ((mode & 0o077) !== 0) throw new RangeError(`${source}: the file may be read by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (e instanceof RangeError) throw e;
      throw new RangeError(`${source}: cannot read it: ${(e as Error).message}`);
    }
  } else {
    const v = env[CLUSTER_SECRET_ENV];
    if (v === undefined || v === '') return null;
    source = CLUSTER_SECRET_ENV;
    text = v;
  }
  const secret = Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`${source}: the secret is ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed (e.g. openssl rand -hex 32)`);
  return secret;
}

/**
 * Checks that a node runs with exactly one of a cluster secret and `--insecure`. `source` names
 * where the secret came from in the message when both are given.
 * @throws RangeError when neither or both are given
 */
export function checkSecretMode(secret: Buffer | null, insecure: boolean, source = 'a cluster secret'): void {
  if (secret === null && !insecure) throw new RangeError(`no cluster secret: give --cluster-secret-file FILE (or $${CLUSTER_SECRET_ENV}), or --insecure to run with unauthenticated peer RPC`);
  if (secret !== null && insecure) throw new RangeError(`--insecure and ${source} exclude each other`);
}

/** A fresh random secret (64 hex characters), e.g. for a test cluster. */
export function randomClusterSecret(): string {
  return randomBytes(32).toString('hex');
}

/** The proof that `from` holds `secret`, for a stream to `to` opened with `nonce`. */
export function peerProof(secret: Buffer, from: string, to: string, nonce: string): string {
  return createHmac('sha256', secret).update(`dsync-peer-stream v1\n${from}\n${to}\n${nonce}`).digest('hex');
}

/** The headers that authenticate a stream from `from` to `to` (none but `x-dsync-from` without a secret). */
export function peerHeaders(secret: Buffer | null, from: string, to: string, nonce: string | null): Record<string, string> {
  if (secret === null || nonce === null) return { [PEER_FROM_HEADER]: from };
  return { [PEER_FROM_HEADER]: from, [PEER_NONCE_HEADER]: nonce, [PEER_AUTH_HEADER]: peerProof(secret, from, to, nonce) };
}

/** Why a peer stream was refused (the 401's message), or the member it comes from. */
export type PeerCheck = { readonly ok: true; readonly from: string } | { readonly ok: false; readonly message: string };

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return typeof v === 'string' ? v : undefined;
};

/** The receiving side: hands out challenges and checks the proofs of incoming peer streams. */
export class PeerAuthenticator {
  readonly #secret: Buffer | null;
  readonly #self: string;
  readonly #members: ReadonlySet<string>;
  readonly #now: () => number;
  /** nonce → when it expires (monotonic ms); in insertion order, so the oldest is first. */
  readonly #nonces = new Map<string, number>();

  constructor(secret: Buffer | null, self: string, members: Iterable<string>, now: () => number = () => performance.now()) {
    this.#secret = secret;
    this.#self = self;
    this.#members = new Set(members);
    this.#now = now;
  }

  /** A new single-use nonce. */
  challenge(): string {
    const now = this.#now();
    for (const [n, expires] of this.#nonces) {
      if (expires > now && this.#nonces.size < MAX_OUTSTANDING_CHALLENGES) break;
      this.#nonces.delete(n);
    }
    const nonce = randomBytes(16).toString('hex');
    this.#nonces.set(nonce, now + CHALLENGE_TTL_MS);
    return nonce;
  }

  /** Checks an incoming stream's headers. */
  check(headers: IncomingHttpHeaders): PeerCheck {
    const from = header(headers, PEER_FROM_HEADER);
    if (from === undefined) return { ok: false, message: `peer RPC needs the ${PEER_FROM_HEADER} header` };
    if (from === this.#self || !this.#members.has(from)) return { ok: false, message: `${PEER_FROM_HEADER}: "${from.slice(0, 64)}" is not another member of this cluster` };
    if (this.#secret === null) return { ok: true, from };
    const nonce = header(headers, PEER_NONCE_HEADER);
    const proof = header(headers, PEER_AUTH_HEADER);
    if (nonce === undefined || proof === undefined) return { ok: false, message: `peer RPC needs proof of the cluster secret (${PEER_NONCE_HEADER} and ${PEER_AUTH_HEADER} headers)` };
    const expires = this.#nonces.get(nonce);
    this.#nonces.delete(nonce);
    if (expires === undefined || expires <= this.#now()) return { ok: false, message: `${PEER_NONCE_HEADER}: unknown, used or expired challenge` };
    const want = Buffer.from(peerProof(this.#secret, from, this.#self, nonce), 'hex');
    const got = /^[0-9a-f]{64}$/.test(proof) ? Buffer.from(proof, 'hex') : Buffer.alloc(0);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, message: `${PEER_AUTH_HEADER}: wrong proof of the cluster secret` };
    return { ok: true, from };
  }
}
