/** The queue section's delivery-count histogram: messages by how many times they were delivered. */
namespace DsyncReport {
  export type QueueSection = import('../report-types.js').QueueSection;

  /** Draws `data.queue.histogram` into `#queue-histogram` (nothing when the run has no queue section). */
  export function drawQueueHistogram(data: ReportData): void {
    const q = data.queue;
    if (q === null || q === undefined) return;
    if (q.histogram.length === 0) {
      emptyChart('queue-histogram', 'No message was enqueued ok or delivered.');
      return;
    }
    // Every count from 0 to the largest, so gaps show as empty bars.
    const max = q.histogram[q.histogram.length - 1]?.deliveries ?? 0;
    const byCount = new Map(q.histogram.map((b) => [b.deliveries, b.messages]));
    const counts = Array.from({ length: max + 1 }, (_, i) => i);
    const chart = initChart('queue-histogram', 260);
    chart.setOption({
      ...baseOption(),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (p: unknown) => {
          const first = Array.isArray(p) ? (p[0] as { name?: string; value?: unknown }) : undefined;
          if (first === undefined) return '';
          const n = Number(first.name);
          const what = n === 0 ? 'never delivered (lost)' : n === 1 ? 'delivered once' : `delivered ${n} times`;
          return `<b>${fmtInt(Number(first.value))}</b> message${Number(first.value) === 1 ? '' : 's'} ${what}`;
        },
      },
      grid: { left: 72, right: 24, top: 20, bottom: 46 },
      xAxis: { type: 'category', name: 'deliveries', nameLocation: 'middle', nameGap: 28, data: counts.map(String) },
      yAxis: { type: 'value', name: 'messages', nameLocation: 'middle', nameGap: 52, minInterval: 1, splitLine: { lineStyle: { color: '#eee' } } },
      series: [
        {
          type: 'bar',
          name: 'messages',
          barMaxWidth: 48,
          data: counts.map((c) => ({
            value: byCount.get(c) ?? 0,
            itemStyle: c === 0 ? { color: '#ff8182', borderColor: '#cf222e' } : c === 1 ? { color: OUTCOME_FILL.ok, borderColor: OUTCOME_STROKE.ok } : { color: OUTCOME_FILL.info, borderColor: OUTCOME_STROKE.info },
          })),
          label: { show: true, position: 'top', formatter: (p: { value?: unknown }) => fmtInt(Number(p.value)) },
        },
      ],
    });
  }
}
