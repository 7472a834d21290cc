/**
 * Seeded random HTTP requests for the node fuzz test: over every public route and the peer
 * routes, with malformed JSON, wrong types, huge, negative and fractional numbers, control
 * characters, path tricks, oversize bodies, unknown methods (CONNECT too), malformed request
 * lines and forged peer messages without the cluster secret. Each request is raw bytes sent on a
 * connection of its own (`connection: close`), so that anything can be sent.
 */

/** A seeded PRNG (mulberry32): the same seed gives the same requests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One fuzzed request. */
export interface FuzzRequest {
  /** What kind of request it is, for the figures. */
  readonly kind: string;
  readonly method: string;
  readonly bytes: Buffer;
  /** The server may close the connection before reading all of it (an oversize body). */
  readonly mayReset: boolean;
}

/** Lock names and clients that recur, so that requests meet each other's locks. */
const NAMES = ['a', 'b', 'c', 'fz', 'x/y', 'é', 'a\u0000b', 'b', ' '];
const CLIENTS = ['c1', 'c2', 'c3', 'b\u0000c', 'ü', ''];

/** Numbers in and out of every range a field accepts. */
const NUMBERS: readonly unknown[] = [0, 1, -1, 2, 50, 250, 1.5, -0.5, 1e21, -1e21, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 86_400_000, 86_400_001, 1e308, '5', null, true, [], {}, 'NaN'];

/** Strings with control characters, unicode, path tricks and lengths around the limits. */
const STRINGS: readonly unknown[] = ['', 'a', '\u0000', '\u001b[31m', '\r\n', '../../etc/passwd', '%2e%2e%2f', '\ud800', 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(10_000), '💥', 7, null, {}, ['a']];

/** Targets beyond the real routes: path tricks, unknown paths, odd request targets. */
const ODD_TARGETS = [
  '/lock/..%2f',
  '/lock/..%2F..%2Fhealth',
  '/lock/%',
  '/lock/%00',
  '/lock/%ZZ',
  '/lock/a/b',
  '/lock/',
  '/lock',
  '//health',
  '/health/',
  '/health?x=../../',
  '/status#frag',
  '/internal/raft/',
  '/internal/raft/stream/..',
  '/internal/raft/%2e%2e/stream',
  '/openapi.json/..',
  '/metrics?name[]=1',
  '*',
  'http://evil.example/health',
  '/nope',
  '/' + 'a'.repeat(8000),
  '/lock/' + '%41'.repeat(300),
];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FOO', 'CONNECT'];

/** Percent-encodes `s`; a lone surrogate becomes the (invalid UTF-8) bytes it would be. */
function encodeName(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^%\w.-]/g, (c) => encodeURIComponent(c));
  }
}

/** Draws requests from a PRNG. */
export class RequestFuzzer {
  readonly #r: () => number;
  #session = 0;

  constructor(seed: number) {
    this.#r = prng(seed);
  }

  #pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#r() * xs.length)] as T;
  }
  #chance(p: number): boolean {
    return this.#r() < p;
  }
  #int(lo: number, hi: number): number {
    return lo + Math.floor(this.#r() * (hi - lo + 1));
  }

  /** A value for a field: usually a plausible one, sometimes anything. */
  #field(good: () => unknown): unknown {
    const x = this.#r();
    if (x < 0.7) return good();
    if (x < 0.85) return this.#pick(NUMBERS);
    return this.#pick(STRINGS);
  }

  /** A lock request body: the fields of acquire, release or renew, mixed up and broken. */
  #lockBody(route: 'acquire' | 'release' | 'renew'): Record<string, unknown> {
    const b: Record<string, unknown> = {};
    b['name'] = this.#field(() => this.#pick(NAMES));
    b['client'] = this.#field(() => this.#pick(CLIENTS));
    if (route === 'acquire') {
      if (this.#chance(0.5)) b['mode'] = this.#field(() => this.#pick(['exclusive', 'shared']));
      // Blocking waits stay short (a valid huge waitMs would just wait): the limits are tested with invalid values.
      if (this.#chance(0.6)) b['waitMs'] = this.#chance(0.8) ? this.#int(0, 200) : this.#pick([-1, 1.5, 1e21, 86_400_001, '5', null, 2 ** 53]);
    } else {
      b['token'] = this.#field(() => this.#int(0, 40));
    }
    if (route !== 'release' && this.#chance(0.6)) b['ttlMs'] = this.#field(() => this.#int(1, 2000));
    if (this.#chance(0.3)) {
      b['session'] = this.#field(() => `s${this.#session % 7}`);
      b['seq'] = this.#field(() => this.#int(0, 5));
    }
    if (this.#chance(0.1)) b[this.#pick(['extra', '__proto__', 'constructor', 'toString'])] = this.#pick(STRINGS);
    if (this.#chance(0.05)) delete b['name'];
    this.#session++;
    return b;
  }

  /** A body: JSON of `value`, or something broken. */
  #body(value: unknown): { text: string | Buffer; oversize: boolean } {
    const x = this.#r();
    if (x < 0.75) return { text: JSON.stringify(value), oversize: false };
    if (x < 0.8) return { text: JSON.stringify(value).slice(0, this.#int(0, 20)), oversize: false };
    if (x < 0.84) return { text: this.#pick(['', 'null', '[]', '"x"', '1e999', '{"a":', '{"name":"a",,}', '\u0000', 'true', '{"name":"a"}{"name":"b"}']), oversize: false };
    if (x < 0.87) return { text: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), oversize: false };
    if (x < 0.9) return { text: `{"name":"${'n'.repeat(70_000)}"}`, oversize: true };
    if (x < 0.92) return { text: '['.repeat(50_000), oversize: false };
    return { text: JSON.stringify(value), oversize: false };
  }

  /** A forged peer message (the fuzzer has no secret). */
  #peerMessage(): unknown {
    const type = this.#pick(['append', 'append-resp', 'vote', 'vote-resp', 'prevote', 'snapshot', 'part', 'bogus']);
    return {
      type,
      from: this.#pick(['n1', 'n2', 'n3', 'evil', '']),
      to: this.#pick(['n1', 'n2', 'n3']),
      term: this.#pick(NUMBERS),
      ...(type === 'append' ? { prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 9, data: { request: null } }], commit: 1e9 } : {}),
      ...(type === 'part' ? { data: '{"type":', last: true } : {}),
    };
  }

  /** The next request, its `Host` header naming `host`. */
  next(host: string): FuzzRequest {
    const x = this.#r();
    let kind: string;
    let method: string;
    let target: string;
    let headers: Record<string, string> = {};
    let body: string | Buffer | null = null;
    let mayReset = false;
    if (x < 0.45) {
      const route = this.#pick(['acquire', 'release', 'renew'] as const);
      kind = `lock-${route}`;
      method = this.#chance(0.93) ? 'POST' : this.#pick(METHODS);
      target = `/lock/${route}`;
      const b = this.#body(this.#lockBody(route));
      body = b.text;
      mayReset = b.oversize;
    } else if (x < 0.6) {
      kind = 'lock-view';
      method = this.#chance(0.9) ? 'GET' : this.#pick(METHODS);
      const name = String(this.#field(() => this.#pick(NAMES)));
      target = `/lock/${this.#chance(0.8) ? encodeName(name) : name.replace(/[\s\u0000-\u001f]/g, '')}`;
    } else if (x < 0.7) {
      kind = 'node-route';
      method = this.#chance(0.85) ? 'GET' : this.#pick(METHODS);
      target = this.#pick(['/health', '/status', '/metrics', '/openapi.json']);
    } else if (x < 0.82) {
      kind = 'peer-forged';
      method = this.#chance(0.9) ? this.#pick(['POST', 'GET']) : this.#pick(METHODS);
      target = this.#pick(['/internal/raft/stream', '/internal/raft/challenge']);
      headers = { 'content-type': 'application/x-ndjson' };
      const forged = this.#r();
      if (forged < 0.4) headers['x-dsync-from'] = this.#pick(['n1', 'n2', 'n3', 'evil']);
      if (forged < 0.25) headers['x-dsync-auth'] = this.#pick(['', 'AAAA', 'x'.repeat(64), '00'.repeat(32)]);
      if (forged < 0.15) headers['x-dsync-nonce'] = this.#pick(['', 'AAAA', 'x'.repeat(64)]);
      body = Array.from({ length: this.#int(1, 3) }, () => JSON.stringify(this.#peerMessage())).join('\n') + '\n';
    } else if (x < 0.94) {
      kind = 'odd-target';
      method = this.#pick(METHODS);
      target = this.#pick(ODD_TARGETS);
      if (this.#chance(0.3)) body = this.#body({ name: 'a' }).text;
    } else {
      kind = 'malformed-http';
      return { kind, method: 'RAW', bytes: this.#malformed(host), mayReset: false };
    }
    if (method === 'CONNECT') target = this.#pick([host, 'evil.example:443', target]);
    const payload = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const lines = [`${method} ${target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (payload !== null) {
      if (!('content-type' in headers)) lines.push(`content-type: ${this.#chance(0.9) ? 'application/json' : this.#pick(['text/plain', 'application/x-www-form-urlencoded', ''])}`);
      lines.push(`content-length: ${payload.length}`);
    }
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    return { kind, method, bytes: payload === null ? head : Buffer.concat([head, payload]), mayReset };
  }

  /** A request that is not valid HTTP/1.1. */
  #malformed(host: string): Buffer {
    return Buffer.from(
      this.#pick([
        'GET /health HTTP/9.9\r\n\r\n',
        'GET\r\n\r\n',
        `GET /health HTTP/1.1\r\nhost: ${host}\r\ncontent-length: -1\r\n\r\n`,
        `POST /lock/acquire HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
        `GET /health HTTP/1.1\r\nhost: ${host}\r\nx-bad\u0001: 1\r\n\r\n`,
        `GET /he\u0000alth HTTP/1.1\r\nhost: ${host}\r\n\r\n`,
        `G\u00e9T /health HTTP/1.1\r\nhost: ${host}\r\n\r\n`,
        `POST /lock/acquire HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        `GET /health HTTP/1.1\r\nhost: ${host}\r\nx-long: ${'h'.repeat(20_000)}\r\n\r\n`,
        `GET /health HTTP/1.1\r\nhost: ${host}\r\nconnection: upgrade, close\r\nupgrade: websocket\r\n\r\n`,
        '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
      ]),
      'latin1',
    );
  }
}
