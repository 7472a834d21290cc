/** What all ECharts charts of the report share: creation, resizing, fonts, axes and zoom. */
namespace DsyncReport {
  const allCharts: echarts.ECharts[] = [];
  const firstRenders: Promise<void>[] = [];

  /** The report's font (the page's system font stack). */
  export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  /** Creates a chart in the div `#id`, `height` px tall, and registers it for resizing. */
  export function initChart(id: string, height: number): echarts.ECharts {
    const el = byId(id);
    el.style.height = `${height}px`;
    const chart = echarts.init(el, null, { renderer: 'canvas' });
    allCharts.push(chart);
    firstRenders.push(
      new Promise<void>((resolve) => {
        const done = (): void => {
          chart.off('finished', done);
          resolve();
        };
        chart.on('finished', done);
      }),
    );
    return chart;
  }

  /** Resolves when every chart made so far has finished its first rendering (progressive parts too). */
  export function chartsRendered(): Promise<void> {
    return Promise.all(firstRenders).then(() => undefined);
  }

  /** Resizes every chart when the window does (at most once per frame). */
  export function resizeChartsWithWindow(): void {
    let pending = false;
    window.addEventListener('resize', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        for (const c of allCharts) c.resize();
      });
    });
  }

  /** Options every chart starts from (no animation, the page's font, a tidy tooltip). */
  export function baseOption(): echarts.EChartsOption {
    return {
      animation: false,
      textStyle: { fontFamily: FONT, fontSize: 12, color: '#333' },
      tooltip: {
        confine: true,
        backgroundColor: 'rgba(255,255,255,0.97)',
        borderColor: '#bbb',
        textStyle: { fontSize: 12, color: '#222' },
        // Long words wrap only where they would overflow, never mid-word elsewhere (no `break-all`).
        extraCssText: 'box-shadow:0 2px 8px rgba(0,0,0,.15);max-width:520px;white-space:normal;overflow-wrap:break-word;word-break:normal;',
      },
    };
  }

  /** A value x axis of run time in seconds (callers round `minS`/`maxS`: ECharts labels them). */
  export function timeAxis(minS: number, maxS: number): echarts.XAXisComponentOption {
    return {
      type: 'value',
      name: 'time (s)',
      nameLocation: 'middle',
      nameGap: 26,
      min: minS,
      max: maxS,
      axisLabel: { hideOverlap: true, formatter: (v: number) => String(Number(v.toFixed(3))) },
      splitLine: { lineStyle: { color: '#eee' } },
    };
  }

  /** Mouse-wheel/drag zoom plus a slider on x, optionally starting at `[startS, endS]`. */
  export function timeZoom(
    filterMode: 'filter' | 'weakFilter' | 'none',
    startS?: number,
    endS?: number,
  ): echarts.DataZoomComponentOption[] {
    const range = startS !== undefined && endS !== undefined ? { startValue: startS, endValue: endS } : {};
    return [
      { type: 'inside', xAxisIndex: 0, filterMode, ...range },
      {
        type: 'slider',
        xAxisIndex: 0,
        filterMode,
        height: 18,
        bottom: 8,
        labelFormatter: (v: number) => `${v.toFixed(1)} s`,
        ...range,
      },
    ];
  }

  /** A log-scale y axis of latencies in ms. */
  export function latencyAxis(): echarts.YAXisComponentOption {
    return {
      type: 'log',
      logBase: 10,
      name: 'latency (ms)',
      nameLocation: 'middle',
      nameGap: 46,
      axisLabel: { formatter: (v: number) => fmtAxisNumber(v) },
      splitLine: { lineStyle: { color: '#eee' } },
      minorSplitLine: { show: false },
    };
  }

  /** The x of percentile `p` (0–100) on a "nines" axis: 1 at 0 %, 10 at 90 %, 100 at 99 %, ... */
  export function percentileX(p: number): number {
    return 1 / (1 - p / 100);
  }

  /** The percentile an x of {@link percentileX} stands for, as text (`99.9 %`). */
  export function fmtPercentile(x: number): string {
    const p = 100 * (1 - 1 / x);
    return `${Number(p.toFixed(4))} %`;
  }

  /** A log x axis of percentiles in "nines" ({@link percentileX}), from 0 % to the power of ten at or above `maxX`. */
  export function percentileAxis(maxX: number): echarts.XAXisComponentOption {
    return {
      type: 'log',
      logBase: 10,
      min: 1,
      max: 10 ** Math.ceil(Math.log10(maxX) - 1e-9),
      name: 'percentile',
      nameLocation: 'middle',
      nameGap: 28,
      axisLabel: { formatter: (v: number) => fmtPercentile(v) },
      splitLine: { lineStyle: { color: '#eee' } },
    };
  }

  /** Axis tick numbers: `0.01`, `1`, `1,000`, `1e+6`. */
  export function fmtAxisNumber(v: number): string {
    if (v === 0) return '0';
    if (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3) return v.toExponential(0);
    return v >= 1 ? fmtInt(v) : String(Number(v.toPrecision(3)));
  }

  /** A row of a legend: `icon: 'rect'` for fault bands. */
  export type LegendItem = { name: string; icon?: string; itemStyle?: { color: string } };

  /** A scrolling legend across the top of a chart. */
  export function topLegend(items: readonly LegendItem[]): echarts.LegendComponentOption {
    return {
      type: 'scroll',
      top: 4,
      left: 'center',
      itemWidth: 14,
      itemHeight: 10,
      data: items.map((i) => ({ ...i })),
    };
  }

  /** Replaces a chart's div with a short sentence (no data to draw). */
  export function emptyChart(id: string, sentence: string): void {
    const el = byId(id);
    el.classList.add('empty');
    el.style.height = 'auto';
    el.replaceChildren(h('p', { class: 'muted' }, sentence));
  }
}
