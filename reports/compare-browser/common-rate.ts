/**
 * A service's latency distribution at its common rate (the highest offered rate every size
 * sustained): one line per cluster size, percentiles on a "nines" axis.
 */
namespace DsyncReport {
  /**
   * Draws the percentiles of `service` at `data.commonRate[service]` into `#percentiles-<service>`.
   * Percentiles are read as 0–100 (as the run report's are); a curve whose largest is at most 1 is
   * taken to be in fractions.
   */
  export function drawCommonRate(data: CompareResults, service: CompareService): void {
    const id = `percentiles-${service}`;
    const rate = data.commonRate[service];
    if (rate === undefined) {
      emptyChart(id, 'No common rate: no offered rate was sustained by every size.');
      return;
    }
    const sizes = pageSizes(data);
    const rows = data.curves
      .filter((c) => c.service === service && c.offeredPerSec === rate && c.percentiles.some((p) => p[1] > 0))
      .sort((a, b) => a.nodes - b.nodes);
    if (rows.length === 0) {
      emptyChart(id, `No latency percentiles of ${service} at ${fmtInt(rate)} ops/s.`);
      return;
    }
    let maxX = 100;
    const series: echarts.LineSeriesOption[] = rows.map((r) => {
      const scale = Math.max(...r.percentiles.map((p) => p[0])) <= 1 ? 100 : 1;
      const pts = r.percentiles
        .map((p) => [p[0] * scale, p[1]] as const)
        .filter((p) => p[0] >= 0 && p[0] < 100)
        .map((p) => [percentileX(p[0]), Math.max(p[1], 1e-3)]);
      for (const p of pts) maxX = Math.max(maxX, p[0] ?? 1);
      return {
        type: 'line',
        name: sizeName(r.nodes),
        color: sizeColour(r.nodes, sizes),
        symbol: 'circle',
        symbolSize: 5,
        lineStyle: { width: 2 },
        data: pts,
      };
    });
    const chart = initChart(id, 340);
    chart.setOption({
      ...baseOption(),
      legend: topLegend(rows.map((r) => ({ name: sizeName(r.nodes) }))),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        formatter: (p: unknown) => {
          const items = Array.isArray(p) ? (p as { seriesName?: string; value?: unknown; color?: string }[]) : [];
          return items
            .filter((i) => Array.isArray(i.value))
            .map((i) => {
              const v = i.value as number[];
              return tooltipRow(String(i.color), `${esc(i.seriesName ?? '')}: ${fmtDuration(Number(v[1]))} at ${fmtPercentile(Number(v[0]))}`);
            })
            .join('<br>');
        },
      },
      grid: { left: 72, right: 32, top: 36, bottom: 50 },
      xAxis: percentileAxis(maxX),
      yAxis: latencyAxis(),
      series,
    });
  }
}
