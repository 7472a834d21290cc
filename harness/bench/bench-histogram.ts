/**
 * The benchmarks' latency histograms (HdrHistogram, µs from 1 µs to an hour, 3 significant
 * digits) and the percentiles every load reports from them, in ms.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** A histogram of µs from 1 µs to an hour, 3 significant digits. */
export const histogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** A duration in ms as whole µs (at least 1), for {@link histogram}. */
export const micros = (ms: number): number => Math.max(1, Math.round(ms * 1000));

/** The p50, p99 and max of `h` in ms; NaN when it recorded nothing. */
export function latencies(h: Histogram): { p50Ms: number; p99Ms: number; maxMs: number } {
  const timed = h.totalCount > 0;
  return {
    p50Ms: timed ? h.getValueAtPercentile(50) / 1000 : NaN,
    p99Ms: timed ? h.getValueAtPercentile(99) / 1000 : NaN,
    maxMs: timed ? h.maxValue / 1000 : NaN,
  };
}
