/**
 * The HdrHistogram percentile distribution of ok latencies: per f, one solid line from the
 * scheduled time and one dashed line of service time, in the same colour.
 */
namespace DsyncReport {
  /** A curve's legend name: `acquire` (from the schedule) or `acquire service`. */
  function curveName(c: PercentileCurve): string {
    return c.measure === 'service' ? `${c.f} service` : c.f;
  }

  /** Draws `data.percentiles` into `#percentiles`: x is `1/(1 - p/100)` on a log axis. */
  export function drawPercentiles(data: ReportData): void {
    const curves = data.percentiles.filter((c) => c.points.some((p) => p[0] < 100));
    if (curves.length === 0) {
      emptyChart('percentiles', 'No ok ops, so no latency distribution.');
      return;
    }
    // The familiar axis runs to 99.99 % (x = 10^4); runs with more ops can go further.
    let maxX = 1e4;
    const fs = [...new Set(curves.map((c) => c.f))];
    const lines: echarts.LineSeriesOption[] = curves.map((c) => {
      const pts = c.points.filter((p) => p[0] < 100 && p[0] >= 0).map((p) => [percentileX(p[0]), Math.max(p[1], 1e-3)]);
      for (const p of pts) maxX = Math.max(maxX, p[0] ?? 1);
      return {
        type: 'line',
        name: curveName(c),
        color: SERIES_PALETTE[fs.indexOf(c.f) % SERIES_PALETTE.length] ?? '#333',
        showSymbol: false,
        symbolSize: 4,
        lineStyle: { width: 2, type: c.measure === 'service' ? 'dashed' : 'solid' },
        data: pts,
      };
    });
    const counts = new Map(curves.map((c) => [curveName(c), c.count]));
    const chart = initChart('percentiles', 360);
    chart.setOption({
      ...baseOption(),
      legend: topLegend(curves.map((c) => ({ name: curveName(c) }))),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        formatter: (p: unknown) => {
          const rows = Array.isArray(p) ? (p as { seriesName?: string; value?: unknown; color?: string }[]) : [];
          const first = rows[0]?.value;
          if (!Array.isArray(first)) return '';
          const lines = rows.map((r) => {
            const v = Array.isArray(r.value) ? r.value : [];
            const n = counts.get(r.seriesName ?? '');
            return (
              `<span style="display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;background:${String(r.color)}"></span>` +
              `${esc(r.seriesName ?? '')}${(r.seriesName ?? '').endsWith(' service') ? '' : ' from schedule'}: ${fmtDuration(Number(v[1]))} at ${fmtPercentile(Number(v[0]))}` +
              (n === undefined ? '' : ` <span style="color:#888">(${fmtInt(n)} ok)</span>`)
            );
          });
          return lines.join('<br>');
        },
      },
      grid: { left: 72, right: 32, top: 36, bottom: 50 },
      xAxis: percentileAxis(maxX),
      yAxis: latencyAxis(),
      series: lines,
    });
  }
}
