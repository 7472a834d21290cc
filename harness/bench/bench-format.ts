/** What the benchmark commands share: parsers of their flags and the formatting of their numbers. */
import { InvalidArgumentError } from 'commander';

/** `1 client`, `16 clients`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A ratio with two decimals, `?` when undefined (NaN). */
export const ratio = (x: number): string => (Number.isNaN(x) ? '?' : x.toFixed(2));

/** A latency in ms, e.g. `0.45 ms`, `3.0 ms`, `101 ms`; `—` when nothing was measured (NaN). */
export function ms(x: number): string {
  if (Number.isNaN(x)) return '—';
  return `${x < 1 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`;
}

/** CPU seconds per 1,000 ops with two decimals, `—` when not measured. */
export const cpuPer1k = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(2));

/** A rate, rounded, with thousands separators: `12,345`. */
export const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

/** A commander parser of a comma-separated list of integers in [min, max], e.g. `--clients 1,16,64`. */
export function intList(flag: string, min: number, max: number, example: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.some((s) => !/^\d+$/.test(s)) || nums.some((n) => n < min || n > max)) {
      throw new InvalidArgumentError(`${flag} takes a comma-separated list of integers from ${min} to ${max}, e.g. ${example}`);
    }
    return [...new Set(nums)];
  };
}

/** A commander parser of a number of seconds in [min, max] (min excluded when `positive`). */
export function seconds(flag: string, positive: boolean, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (positive ? n <= 0 : n < 0) || n > max) {
      throw new InvalidArgumentError(`${flag} takes a number of seconds ${positive ? '> 0' : '≥ 0'} and ≤ ${max}, got '${value}'`);
    }
    return n;
  };
}

/** A commander parser of a positive number (at most `max`), naming `flag` in its error. */
export function positiveNumber(flag: string, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new InvalidArgumentError(`${flag} takes a number > 0 and ≤ ${max}, got '${value}'`);
    return n;
  };
}
