/**
 * The home map and the fenced calls (`home-map.ts`) in Redis: the map is a hash at the store's
 * key prefix itself (`epoch`, `down` as a JSON array) — no cache key is empty, so it cannot
 * collide with a value's key — and each fenced call is one Lua script that checks the epoch and
 * does the call, atomically (Redis runs a script alone). One server, not Redis Cluster: the map
 * and the values are in different hash slots.
 */
import { createHash } from 'node:crypto';
import { StaleEpochError, type Fencing, type HomeView } from './home-map.js';

/** Runs a Lua script (by its SHA-1, loading it if the server does not know it) with `keys` and `args`; `op` says what it counts as. */
export type RunScript = (script: LuaScript, keys: readonly string[], args: readonly (string | number)[], op: 'get' | 'put' | 'delete' | 'script') => Promise<unknown>;

/** A Lua script and its SHA-1 (for EVALSHA). */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

const lua = (source: string): LuaScript => ({ source, sha: createHash('sha1').update(source).digest('hex') });

/** KEYS[1] the map, KEYS[2] the value; ARGV[1] the epoch, ARGV[2] get|put|del|check, ARGV[3] the value. {1, reply} or {0, epoch, down}. */
const FENCED = lua(`
local e = redis.call('HGET', KEYS[1], 'epoch') or '0'
if e ~= ARGV[1] then return {0, e, redis.call('HGET', KEYS[1], 'down') or '[]'} end
local op = ARGV[2]
if op == 'get' then return {1, redis.call('GET', KEYS[2])} end
if op == 'put' then redis.call('SET', KEYS[2], ARGV[3]) return {1} end
if op == 'del' then redis.call('DEL', KEYS[2]) return {1} end
return {1}
`);

/** KEYS[1] the map; ARGV[1] the expected epoch, ARGV[2] the new down list (JSON). The new epoch, or false. */
const SWAP = lua(`
local e = redis.call('HGET', KEYS[1], 'epoch') or '0'
if e ~= ARGV[1] then return false end
local n = tonumber(e) + 1
redis.call('HSET', KEYS[1], 'epoch', tostring(n), 'down', ARGV[2])
return n
`);

const READ = lua(`return {redis.call('HGET', KEYS[1], 'epoch') or '0', redis.call('HGET', KEYS[1], 'down') or '[]'}`);

/** Parses a map as the scripts return it. */
function view(epoch: unknown, down: unknown): HomeView {
  const e = Number(epoch);
  let list: unknown;
  try {
    list = JSON.parse(String(down));
  } catch {
    list = undefined;
  }
  if (!Number.isSafeInteger(e) || e < 0 || !Array.isArray(list) || !list.every((x): x is string => typeof x === 'string')) {
    throw new Error(`the home map in Redis is malformed: epoch ${JSON.stringify(epoch)}, down ${JSON.stringify(down)}`);
  }
  return { epoch: e, down: list };
}

/** The {@link Fencing} of a Redis store whose keys start with `prefix`. */
export function redisFencing(prefix: string, run: RunScript): Fencing {
  const fenced = async (epoch: number, op: 'get' | 'put' | 'del' | 'check', key: string, value = ''): Promise<unknown> => {
    const counted = op === 'del' ? 'delete' : op === 'check' ? 'script' : op;
    const r = (await run(FENCED, [prefix, prefix + key], [String(epoch), op, value], counted)) as unknown[];
    if (r[0] === 0) throw new StaleEpochError(epoch, view(r[1], r[2]));
    return r[1];
  };
  return {
    async read() {
      const r = (await run(READ, [prefix], [], 'script')) as unknown[];
      return view(r[0], r[1]);
    },
    async swap(expected, down) {
      const r = await run(SWAP, [prefix], [String(expected), JSON.stringify([...down].sort())], 'script');
      return r === null ? null : { epoch: Number(r), down: [...down].sort() };
    },
    async get(epoch, key) {
      const v = await fenced(epoch, 'get', key);
      return v === null || v === undefined ? null : String(v);
    },
    async put(epoch, key, value) {
      await fenced(epoch, 'put', key, value);
    },
    async delete(epoch, key) {
      await fenced(epoch, 'del', key);
    },
    async check(epoch) {
      await fenced(epoch, 'check', '');
    },
  };
}
