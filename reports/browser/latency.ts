/** Latency over time: a point per completed op, one scatter series per (f, outcome). */
namespace DsyncReport {
  /** Symbols distinguishing fs (colour tells the outcome, as in Jepsen's latency plots). */
  const F_SYMBOLS: readonly string[] = ['circle', 'triangle', 'rect', 'diamond', 'pin', 'arrow', 'roundRect'];
  /** Latencies are drawn on a log axis: zero is shown as this many ms. */
  const MIN_LATENCY_MS = 1e-3;

  /** Draws `data.latency` into `#latency`, with the fault bands. */
  export function drawLatency(data: ReportData): void {
    const l = data.latency;
    byId('latency-caption').textContent =
      l.shown < l.total
        ? `A sample of ${fmtInt(l.shown)} of ${fmtInt(l.total)} completed ops (x: completion time, y: latency from the scheduled time, log scale).`
        : `${fmtInt(l.total)} completed ops (x: completion time, y: latency from the scheduled time, log scale).`;
    const series = l.series.filter((s) => s.points.length > 0);
    if (series.length === 0) {
      emptyChart('latency', 'No completed client ops.');
      return;
    }
    const fs = [...new Set(series.map((s) => s.f))];
    const chart = initChart('latency', 380);
    const maxS = Math.max(Math.ceil(data.durationMs / 1000), 1);
    const faults = faultLayer(data, { pxPerS: pxPerSecond('latency', 72 + 24, maxS) });
    const scatter: echarts.ScatterSeriesOption[] = series.map((s) => ({
      type: 'scatter',
      name: `${s.f} ${s.outcome}`,
      symbol: F_SYMBOLS[fs.indexOf(s.f) % F_SYMBOLS.length] ?? 'circle',
      symbolSize: s.points.length > 5000 ? 3 : 5,
      large: s.points.length > 2000,
      largeThreshold: 2000,
      itemStyle: { color: OUTCOME_FILL[s.outcome], borderColor: OUTCOME_STROKE[s.outcome], borderWidth: s.points.length > 2000 ? 0 : 0.6, opacity: 0.85 },
      data: s.points.map((p) => [p[0], Math.max(p[1], MIN_LATENCY_MS)]),
      z: 2,
      tooltip: {
        formatter: (p) => {
          const v = (p as { value?: unknown }).value;
          if (!Array.isArray(v)) return '';
          return `${esc(s.f)} · <b>${s.outcome}</b><br>completed at ${Number(v[0]).toFixed(3)} s<br>latency from schedule ${fmtDuration(Number(v[1]))}`;
        },
      },
    }));
    chart.setOption({
      ...baseOption(),
      legend: topLegend([
        ...scatter.map((s) => ({ name: String(s.name) })),
        ...faults.legend,
      ]),
      tooltip: { ...baseOption().tooltip, trigger: 'item' },
      grid: { left: 72, right: 24, top: BANDED_GRID_TOP, bottom: 70 },
      xAxis: timeAxis(0, maxS),
      yAxis: latencyAxis(),
      dataZoom: timeZoom('filter'),
      series: [...faults.series, ...scatter],
    });
  }
}
