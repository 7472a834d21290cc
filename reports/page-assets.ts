/**
 * The scripts the offline report pages inline: ECharts, and the browser app that draws the page
 * (`report-app.js` for a run's report.html, `compare-app.js` for compare.html), both compiled by
 * `npm run build` into `dist/reports/browser/`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { escapeHtml, jsonForScript, scriptText } from './html-format.js';

/** The scripts a page inlines. */
export interface PageAssets {
  /** `echarts/dist/echarts.min.js`. */
  readonly echarts: string;
  /** The compiled browser app. */
  readonly app: string;
}

/** The browser apps, by file name in `dist/reports/browser/`, and the tsconfig that compiles each. */
const APPS = {
  'report-app.js': 'tsconfig.browser.json',
  'compare-app.js': 'tsconfig.compare-browser.json',
} as const;

type AppFile = keyof typeof APPS;

const cached = new Map<AppFile, PageAssets>();

/**
 * Reads (once per app) the scripts of a page: ECharts and the compiled app. Throws, naming the
 * file, when one is missing.
 */
function pageAssets(appFile: AppFile): PageAssets {
  const hit = cached.get(appFile);
  if (hit !== undefined) return hit;
  let echartsPath: string;
  try {
    echartsPath = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  } catch (e) {
    throw new Error(`cannot find echarts/dist/echarts.min.js (is the echarts package installed? run npm install): ${String(e)}`);
  }
  const appPath = fileURLToPath(new URL(`./browser/${appFile}`, import.meta.url));
  const assets = {
    echarts: readAsset(echartsPath, 'run npm install'),
    app: readAsset(appPath, `run npm run build (tsc -p ${APPS[appFile]} compiles it)`),
  };
  cached.set(appFile, assets);
  return assets;
}

/** The scripts of a run's report.html (the app compiled from `reports/browser/`). */
export function reportAssets(): PageAssets {
  return pageAssets('report-app.js');
}

/** The scripts of a comparison's compare.html (the app compiled from `reports/compare-browser/`). */
export function compareAssets(): PageAssets {
  return pageAssets('compare-app.js');
}

/** A file's text, or an Error naming it and what to do. */
function readAsset(path: string, fix: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`report asset ${path} is missing${code === undefined ? '' : ` (${code})`}: ${fix}`);
  }
}

/**
 * An offline page: `title` and `style` in the head, `main` as the body's text, then `data` as JSON
 * in `<script id=dataId>` for the app, ECharts and the app inlined. The app sets `body[data-ready]`.
 */
export function offlinePage(o: { title: string; style: string; main: string; dataId: string; data: unknown; assets: PageAssets }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dsync">
<title>${escapeHtml(o.title)}</title>
<style>${o.style}</style>
</head>
<body data-ready="false">
<main>
${o.main}
</main>
<script type="application/json" id="${o.dataId}">${jsonForScript(o.data)}</script>
<script>${scriptText(o.assets.echarts)}</script>
<script>${scriptText(o.assets.app)}</script>
</body>
</html>
`;
}
