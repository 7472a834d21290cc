/**
 * How a report page starts, shared by report.html and compare.html: read the embedded data, draw
 * each part (a part that throws shows an error box and the others still draw), then set
 * `body[data-ready]` to `true` once every chart has rendered, or to `error` (the contract
 * `reports/chromium.ts` waits on).
 */
namespace DsyncReport {
  /** Gives up waiting for charts to finish rendering after this long (the page is usable anyway). */
  const RENDER_WAIT_MS = 10000;

  /** One part of a page: what it is (for error messages) and how to draw it. */
  export type PagePart = readonly [what: string, draw: () => void];

  /** Shows an error in the page (`#report-error`) and logs it. */
  export function showError(what: string, e: unknown): void {
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

  /** The JSON embedded in the `<script type="application/json">` element `#id`. */
  export function embeddedJson(id: string): unknown {
    return JSON.parse(byId(id).textContent ?? '');
  }

  /**
   * Draws a page: `read` gives its data (a throw there shows the error and stops), `parts` lists
   * what to draw from it. Sets `body[data-ready]` when done.
   */
  export function startPage<T>(read: () => T, parts: (data: T) => readonly PagePart[]): void {
    let failed = false;
    window.addEventListener('error', (ev) => {
      failed = true;
      showError('script', ev.error ?? ev.message);
    });
    window.addEventListener('unhandledrejection', (ev) => {
      failed = true;
      showError('script', ev.reason);
    });
    let data: T;
    try {
      data = read();
    } catch (e) {
      showError('reading the report data', e);
      document.body.dataset.ready = 'error';
      return;
    }
    for (const [what, draw] of parts(data)) {
      try {
        draw();
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
