/**
 * The Redis backing store: the cache's main memory in a Redis server, one connection (ioredis),
 * each key stored as a string under a prefix (`GET`, `SET`, `DEL`).
 *
 * Durability is the server's: a put resolves when the server has answered the `SET`. For that to
 * mean durable, run the server with an fsync-always AOF —
 * `redis-server --appendonly yes --appendfsync always` — as `harness/redis-server.ts` does; with
 * the defaults (`appendfsync everysec`, or no AOF) a server crash loses the last second or more.
 *
 * Failures are bounded, never a hang or a storm: `connect` gives up when the server does not
 * answer PING within `connectTimeoutMs`; a lost connection is retried with a backoff capped at
 * 2 s, a command waits through at most `maxRetriesPerRequest` reconnections and at most
 * `commandTimeoutMs` in all, then rejects with an error naming the server's URL. The client's
 * `error` events are caught (and logged once per outage), never left unhandled.
 */
import { Redis } from 'ioredis';
import { asError, errorMessage } from '../errors.js';
import { checkKey, checkMaxValueBytes, checkValue, type BackingStore, type BackingStoreStats } from './backing-store.js';
import type { Fencing } from './home-map.js';
import { redisFencing, type LuaScript } from './redis-fencing.js';

/** Options of {@link RedisStore.connect}. */
export interface RedisStoreOptions {
  /** Put before every key, so that other data (or another cluster) can share the server. @default 'dsync:cache:' */
  readonly keyPrefix?: string;
  /** How long `connect` waits for the connection and the answer to its PING. @default 3000 */
  readonly connectTimeoutMs?: number;
  /** How long a command waits for its answer, reconnections included, before it rejects. @default 5000 */
  readonly commandTimeoutMs?: number;
  /** How many reconnection attempts a command waits through before it rejects. @default 1 */
  readonly maxRetriesPerRequest?: number;
  /** The longest value, in UTF-8 bytes. @default 1048576 (1 MiB) */
  readonly maxValueBytes?: number;
  /** Receives a line when the connection is lost (once per outage) and when it is back. */
  readonly log?: (line: string) => void;
}

/** The prefix of every key when no `keyPrefix` is given. */
export const DEFAULT_KEY_PREFIX = 'dsync:cache:';

/** The first reconnection waits this long; each next one twice as long, up to {@link RETRY_MAX_MS}. */
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2000;

type Resolved = Required<Omit<RedisStoreOptions, 'log'>> & Pick<RedisStoreOptions, 'log'>;

/** Fills in the defaults of `o`, rejecting bad values with an error naming the field. */
function resolveOptions(o: RedisStoreOptions): Resolved {
  const integer = (name: string, v: number, min: number): number => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
    return v;
  };
  const keyPrefix = o.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string') throw new TypeError(`keyPrefix must be a string, got ${typeof keyPrefix}`);
  return {
    keyPrefix,
    connectTimeoutMs: integer('connectTimeoutMs', o.connectTimeoutMs ?? 3000, 1),
    commandTimeoutMs: integer('commandTimeoutMs', o.commandTimeoutMs ?? 5000, 1),
    maxRetriesPerRequest: integer('maxRetriesPerRequest', o.maxRetriesPerRequest ?? 1, 0),
    maxValueBytes: checkMaxValueBytes(o.maxValueBytes),
    log: o.log,
  };
}

/**
 * `url` as error messages show it (its password masked).
 * @throws TypeError unless it is a redis:// or rediss:// URL
 */
export function describeRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TypeError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  if (u.password !== '') u.password = '***';
  return u.toString();
}

/** Rejects with `onTimeout()` unless `p` settles within `ms`. */
async function within<T>(ms: number, p: Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The cache's main memory in a Redis server. Connect with {@link RedisStore.connect}. */
export class RedisStore implements BackingStore {
  readonly kind = 'redis' as const;
  /** The server's URL, password masked. */
  readonly url: string;
  readonly #redis: Redis;
  readonly #o: Resolved;
  readonly #counts = { gets: 0, puts: 0, deletes: 0, errors: 0 };
  /** The last error the client emitted (a refused or lost connection), for messages. */
  #lastError: Error | null = null;
  /** Whether the current outage was logged. */
  #outageLogged = false;
  #closing: Promise<void> | null = null;
  /** The home map and the fenced calls, in this server beside the values (`redis-fencing.ts`). */
  readonly fencing: Fencing;

  private constructor(redis: Redis, url: string, o: Resolved) {
    this.#redis = redis;
    this.url = url;
    this.#o = o;
    const inner = redisFencing(o.keyPrefix, (script, keys, args, op) => this.#call(op, () => this.#script(script, keys, args)));
    // The values' arguments are checked as the plain calls check them.
    this.fencing = {
      ...inner,
      get: async (epoch, key) => (checkKey('get', key), inner.get(epoch, key)),
      put: async (epoch, key, value) => (checkKey('put', key), checkValue('put', value, o.maxValueBytes), inner.put(epoch, key, value)),
      delete: async (epoch, key) => (checkKey('delete', key), inner.delete(epoch, key)),
    };
    redis.on('error', (e: unknown) => {
      this.#lastError = asError(e);
      if (this.#outageLogged || this.#closing !== null) return;
      this.#outageLogged = true;
      o.log?.(`redis store ${url}: ${this.#lastError.message}; reconnecting`);
    });
    redis.on('ready', () => {
      if (this.#outageLogged) o.log?.(`redis store ${url}: connected again`);
      this.#outageLogged = false;
      this.#lastError = null;
    });
  }

  /**
   * Connects to the Redis server at `url` (`redis://host:port[/db]`) and checks that it answers
   * PING within `connectTimeoutMs`.
   * @throws TypeError on a bad URL, RangeError on a bad option, Error naming the URL when the server does not answer
   */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const o = resolveOptions(options);
    const where = describeRedisUrl(url);
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: o.connectTimeoutMs,
      commandTimeout: o.commandTimeoutMs,
      maxRetriesPerRequest: o.maxRetriesPerRequest,
      retryStrategy: (times) => Math.min(RETRY_BASE_MS * 2 ** (times - 1), RETRY_MAX_MS),
    });
    const store = new RedisStore(redis, where, o);
    const ping = async (): Promise<void> => {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`);
    };
    try {
      await within(o.connectTimeoutMs, ping(), () => new Error(`no answer to PING within ${o.connectTimeoutMs} ms`));
    } catch (e) {
      store.#closing = Promise.resolve();
      redis.disconnect();
      // ioredis rejects connect() with a bare "Connection is closed."; the error event says why.
      const lost = store.#lastError;
      const why = lost === null ? errorMessage(e) : /connection is closed/i.test(errorMessage(e)) ? lost.message : `${errorMessage(e)}; ${lost.message}`;
      throw new Error(`redis store ${where}: cannot connect: ${why}`, { cause: e });
    }
    return store;
  }

  async get(key: string): Promise<string | null> {
    return this.#call('get', () => {
      checkKey('get', key);
      return this.#redis.get(this.#o.keyPrefix + key);
    });
  }

  async put(key: string, value: string): Promise<void> {
    await this.#call('put', () => {
      checkKey('put', key);
      checkValue('put', value, this.#o.maxValueBytes);
      return this.#redis.set(this.#o.keyPrefix + key, value);
    });
  }

  async delete(key: string): Promise<void> {
    await this.#call('delete', () => {
      checkKey('delete', key);
      return this.#redis.del(this.#o.keyPrefix + key);
    });
  }

  stats(): BackingStoreStats {
    return { ...this.#counts, fsyncs: 0 };
  }

  /** Waits for the commands sent (QUIT), or drops the connection if the server is gone; later calls reject. */
  close(): Promise<void> {
    this.#closing ??= within(this.#o.commandTimeoutMs, this.#redis.quit(), () => new Error('QUIT timed out')).then(
      () => undefined,
      () => this.#redis.disconnect(),
    );
    return this.#closing;
  }

  /** EVALSHA, or EVAL when the server does not have the script (a fresh or restarted server). */
  async #script(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!/NOSCRIPT/.test(errorMessage(e))) throw e;
      return this.#redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /** Runs one command, counting it; argument errors reject as they are, server errors name the URL. */
  async #call<T>(op: 'get' | 'put' | 'delete' | 'script', send: () => Promise<T>): Promise<T> {
    let sent: Promise<T>;
    try {
      if (this.#closing !== null) throw new Error(`redis store ${this.url}: ${op} after close`);
      sent = send();
    } catch (e) {
      this.#counts.errors++;
      throw e;
    }
    try {
      const reply = await sent;
      if (op !== 'script') this.#counts[op === 'get' ? 'gets' : op === 'put' ? 'puts' : 'deletes']++;
      return reply;
    } catch (e) {
      this.#counts.errors++;
      const why = this.#lastError !== null && this.#lastError !== e ? `${errorMessage(e)} (connection: ${this.#lastError.message})` : errorMessage(e);
      throw new Error(`redis store ${this.url}: ${op} failed: ${why}`, { cause: e });
    }
  }
}
