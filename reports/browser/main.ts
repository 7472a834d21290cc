/** The report's entry: reads the embedded data, draws every part, then marks the page ready. */
namespace DsyncReport {
  /** Gives up waiting for charts to finish rendering after this long (the page is usable anyway). */
  const RENDER_WAIT_MS = 10000;

  /** The ReportData embedded in `#report-data`. */
  function readData(): ReportData {
    const text = byId('report-data').textContent ?? '';
    const data = JSON.parse(text) as ReportData;
    if (data.version !== 1) throw new Error(`unsupported report data version ${String(data.version)}`);
    return data;
  }

  /** Shows an error in the page (`#report-error`) and logs it. */
  function showError(what: string, e: unknown): void {
    console.error(`report: ${what} failed:`, e);
    const box = document.getElementById('report-error');
    const msg = e instanceof Error ? `${e.message}${e.stack === undefined ? '' : `\n${e.stack}`}` : String(e);
    if (box === null) {
      document.body.prepend(h('pre', { class: 'error' }, `${what}: ${msg}`));
      return;
    }
    box.hidden = false;
    box.append(h('pre', {}, `${what} failed: ${msg}`));
  }

  /** Draws the page; sets `body[data-ready]` to `true` when done (`error` when a part failed). */
  export function start(): void {
    let failed = false;
    window.addEventListener('error', (ev) => {
      failed = true;
      showError('script', ev.error ?? ev.message);
    });
    window.addEventListener('unhandledrejection', (ev) => {
      failed = true;
      showError('script', ev.reason);
    });
    let data: ReportData;
    try {
      data = readData();
    } catch (e) {
      showError('reading the report data', e);
      document.body.dataset.ready = 'error';
      return;
    }
    const parts: readonly (readonly [string, (d: ReportData) => void])[] = [
      ['the counterexamples', drawCounterexamples],
      ['the timeline', drawTimeline],
      ['the latency plot', drawLatency],
      ['the throughput plot', drawThroughput],
      ['the percentile plot', drawPercentiles],
      ['the delivery histogram', drawQueueHistogram],
    ];
    for (const [what, draw] of parts) {
      try {
        draw(data);
      } catch (e) {
        failed = true;
        showError(`drawing ${what}`, e);
      }
    }
    resizeChartsWithWindow();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, RENDER_WAIT_MS));
    void Promise.race([chartsRendered(), timeout]).then(() => {
      document.body.dataset.ready = failed ? 'error' : 'true';
    });
  }
}

DsyncReport.start();
