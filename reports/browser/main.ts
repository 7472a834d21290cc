/** The report's entry: reads the embedded data, draws every part, then marks the page ready. */
namespace DsyncReport {
  /** The ReportData embedded in `#report-data`. */
  function readData(): ReportData {
    const data = embeddedJson('report-data') as ReportData;
    if (data.version !== 1) throw new Error(`unsupported report data version ${String(data.version)}`);
    return data;
  }

  /** Draws the page; sets `body[data-ready]` to `true` when done (`error` when a part failed). */
  export function start(): void {
    startPage(readData, (data) => [
      ['the counterexamples', () => drawCounterexamples(data)],
      ['the timeline', () => drawTimeline(data)],
      ['the latency plot', () => drawLatency(data)],
      ['the throughput plot', () => drawThroughput(data)],
      ['the percentile plot', () => drawPercentiles(data)],
      ['the delivery histogram', () => drawQueueHistogram(data)],
    ]);
  }
}

DsyncReport.start();
