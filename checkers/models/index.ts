/** The registry of linearizability models, by the name users pass to `--model`. */
import type { Model } from '../model.js';
import { independent } from './independent.js';
import { kv } from './kv.js';
import { leaseLock } from './lease-lock.js';
import { multiRegister } from './multi-register.js';
import { mutex } from './mutex.js';
import { casRegister, register } from './register.js';
import { fencedLock, rwLock } from './rw-lock.js';

export { independent, kv, multiRegister, mutex, casRegister, register, fencedLock, rwLock, leaseLock };

const MODELS: ReadonlyMap<string, Model> = new Map(
  ([register, casRegister, mutex, rwLock, fencedLock, leaseLock, kv, multiRegister] as Model[]).map((m) => [m.name, m]),
);

/** The names of every model, in registry order. */
export function modelNames(): string[] {
  return [...MODELS.keys()];
}

/** The model named `name`, or `undefined`. */
export function findModel(name: string): Model | undefined {
  return MODELS.get(name);
}
