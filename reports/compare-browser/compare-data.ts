/**
 * The comparison page's data and what its charts share: the results' types, the cluster sizes of
 * the page, a size's name and colour, tooltip rows. The compare app adds to the `DsyncReport`
 * namespace of `reports/browser/` (whose dom.ts, charts.ts and page-start.ts it is compiled with)
 * but is its own script, `compare-app.js`.
 */
namespace DsyncReport {
  export type CompareResults = import('../../harness/bench/compare-results.js').CompareResults;
  export type CompareService = import('../../harness/bench/compare-results.js').CompareService;
  export type CurveRow = import('../../harness/bench/compare-results.js').CurveRow;
  export type FaultRow = import('../../harness/bench/compare-results.js').FaultRow;

  /** The results embedded in `#compare-data`. */
  export function readCompareData(): CompareResults {
    const data = embeddedJson('compare-data') as CompareResults;
    if (data.kind !== 'bench-compare' || data.version !== 1) {
      throw new Error(`not bench-compare results of version 1 (kind ${String(data.kind)}, version ${String(data.version)})`);
    }
    return data;
  }

  /** The cluster sizes of the page, ascending: those asked for and any with rows (each keeps its colour in every chart). */
  export function pageSizes(data: CompareResults): number[] {
    return [...new Set([...data.options.nodes, ...data.curves.map((c) => c.nodes), ...data.faults.map((f) => f.nodes)])].sort((a, b) => a - b);
  }

  /** `1 node`, `3 nodes`: a size's legend name. */
  export function sizeName(nodes: number): string {
    return `${nodes} node${nodes === 1 ? '' : 's'}`;
  }

  /** A size's colour, the same in every chart of the page. */
  export function sizeColour(nodes: number, sizes: readonly number[]): string {
    return SERIES_PALETTE[Math.max(0, sizes.indexOf(nodes)) % SERIES_PALETTE.length] ?? '#333';
  }

  /** A coloured dot and `text`: one row of a tooltip. */
  export function tooltipRow(colour: string, text: string): string {
    return `<span style="display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;background:${colour}"></span>${text}`;
  }

  /** The smallest of 1, 2, 2.5, 5 × a power of ten at or above `x` (an axis end with round labels). */
  export function niceCeil(x: number): number {
    if (!(x > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(x));
    return ([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * p >= x * (1 - 1e-12)) ?? 10) * p;
  }

  /** The power of ten at or below the smallest, and the one at or above the largest, of `values` (> 0): a log axis's ends. */
  export function logRange(values: readonly number[]): { min: number; max: number } {
    const positive = values.filter((v) => v > 0 && Number.isFinite(v));
    if (positive.length === 0) return { min: 0.1, max: 1000 };
    const min = 10 ** Math.floor(Math.log10(Math.min(...positive)) + 1e-9);
    const max = 10 ** Math.ceil(Math.log10(Math.max(...positive)) - 1e-9);
    return { min, max: max > min ? max : min * 10 };
  }
}
