/** The stylesheets the report pages inline: a run's report.html (layout, cards, verdict colours, tables, counterexample views) and what compare.html adds. */
export const REPORT_STYLE = `
:root{--border:#d0d7de;--muted:#59636e;--valid:#1a7f37;--invalid:#cf222e;--unknown:#9a6700;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{background:#f3f5f7}
body{margin:0;color:#1f2328;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:var(--mono);font-size:12.5px}
h1{font-size:24px;margin:0;line-height:1.25;word-break:break-word}
h2{font-size:16px;margin:0 0 10px}
.muted{color:var(--muted)}
header.page .title{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
header.page .description{margin:4px 0 0;color:var(--muted)}
header.page nav{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:10px;font-size:13px}
.pill{display:inline-block;padding:2px 10px;border-radius:999px;color:#fff;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.pill.valid{background:var(--valid)}.pill.invalid{background:var(--invalid)}.pill.unknown{background:#bf8700}.pill.incomplete{background:#d4700a}
.card{background:#fff;border:1px solid var(--border);border-radius:8px;padding:16px 20px;margin-top:16px}
.caption{color:var(--muted);margin:-4px 0 8px;font-size:13px}
.chart{width:100%;height:360px}
#timeline{height:420px}#throughput{height:300px}
.chart.empty{height:auto}
.verdict{display:flex;align-items:baseline;gap:10px;padding:10px 14px;margin:8px 0 0;border-radius:6px;border:1px solid;border-left-width:6px}
.verdict:first-child{margin-top:0}
.verdict .icon{font-weight:700;font-size:16px;width:1em;text-align:center}
.verdict .checker{font-weight:600}
.verdict .word{font-weight:700;text-transform:uppercase;font-size:12px;letter-spacing:.04em}
.verdict .why{flex:1}
.verdict.valid{background:#dafbe1;border-color:#4ac26b;border-left-color:var(--valid)}.verdict.valid .icon,.verdict.valid .word{color:var(--valid)}
.verdict.invalid{background:#ffebe9;border-color:#ff8182;border-left-color:var(--invalid)}.verdict.invalid .icon,.verdict.invalid .word{color:var(--invalid)}
.verdict.unknown{background:#fff8c5;border-color:#d4a72c;border-left-color:#bf8700}.verdict.unknown .icon,.verdict.unknown .word{color:var(--unknown)}
.verdict.incomplete{background:#fff1e5;border-color:#f0a35e;border-left-color:#d4700a}.verdict.incomplete .icon,.verdict.incomplete .word{color:#b35900}
dl.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px 24px;margin:0}
dl.summary .wide{grid-column:1/-1}
dl.summary dt{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.05em}
dl.summary dd{margin:2px 0 0;font-size:15px;font-variant-numeric:tabular-nums;word-break:break-word}
.breakdown{font-size:13px}.ok-text{color:#1f6fb5}.fail-text{color:#b8327a}.info-text{color:#a86400}
.warn-box{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:10px 14px;margin:16px 0 0}
.error-box{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:10px 14px;margin:16px 0 0;color:#82071e}
.error-box pre{white-space:pre-wrap;margin:6px 0 0;background:none;padding:0}
.notes ul{margin:0;padding-left:20px}
table.data{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums;margin-top:12px}
table.data th,table.data td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
table.data thead th{background:#f6f8fa;border-bottom:1px solid var(--border);font-weight:600;white-space:nowrap}
table.data .num{text-align:right;white-space:nowrap}
table.data tr.total td{font-weight:600;border-top:2px solid var(--border)}
table.data thead th.group{text-align:center;border-bottom:1px solid #eaeef2}
table.data th.first,table.data td.first{border-left:1px solid var(--border)}
#final-heal{margin:10px 0 0}
#sec-queue h3{font-size:14px;margin:16px 0 0}
dl.summary .bad dd{color:var(--invalid);font-weight:700}
.valid-text{color:var(--valid);font-weight:600}.invalid-text{color:var(--invalid);font-weight:600}.unknown-text{color:var(--unknown);font-weight:600}
#op-table{font-size:12.5px}#op-table th,#op-table td{padding:4px 7px}
details summary{cursor:pointer;color:#0969da}
ul.files{margin:0;padding-left:20px;columns:2 280px}
pre#config{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:12px 14px;margin:0;overflow:auto;max-height:480px}
footer{color:var(--muted);font-size:12px;margin-top:20px;text-align:center}
.counterexample{border:1px solid var(--border);border-radius:6px;padding:12px 16px;margin-top:12px}
.counterexample:first-child{margin-top:0}
.cx-head{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.cx-head h3{margin:0;font-size:15px}
.cx-summary{margin:8px 0}
.cx-break{background:#ffebe9;border-left:4px solid var(--invalid);border-radius:4px;padding:6px 10px;margin:8px 0}
.cx-break code{font-weight:600;color:#a40e26}
.cx-bars{margin-top:8px;border:1px solid #eaeef2;border-radius:4px}
.cx-bars svg{display:block;width:100%;height:auto;font-family:inherit}
.cx-row{fill:#f6f8fa}
.cx-proc{font-size:12px;fill:#57606a;text-anchor:end;dominant-baseline:central}
.cx-grid{stroke:#e4e7eb;stroke-width:1}
.cx-tick{font-size:11px;fill:#57606a;text-anchor:middle}
.cx-op rect{fill:#6DB6FE;stroke:#2F80C8;stroke-width:1}
.cx-op.concurrent rect{fill:#e6e9ed;stroke:#8c959f}
.cx-op.breaking rect{fill:#ff8182;stroke:#cf222e;stroke-width:2}
.cx-op.open rect{stroke-dasharray:5 3}
.cx-op.hover rect{stroke:#111;stroke-width:2.5}
.cx-step{font-size:11px;font-weight:700;text-anchor:middle;dominant-baseline:central;fill:#0b2540;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round;pointer-events:none}
.cx-op.breaking .cx-step{fill:#82071e}
.cx-hover{min-height:1.5em;margin:6px 0 0;font-size:13px}
table.cx-steps td.state{font-family:var(--mono);font-size:12px}
table.cx-steps tr.concurrent td{color:var(--muted)}
table.cx-steps tr.breaking td{background:#ffebe9;color:#a40e26;font-weight:600}
table.cx-steps tr.hover td{background:#ddf4ff}
table.cx-steps tr.breaking.hover td{background:#ffcecb}
@media print{html{background:#fff}.card{break-inside:avoid}}
`;

/** What compare.html adds to {@link REPORT_STYLE}: the summary list, the per-service headings, side-by-side fault charts, knee rows. */
export const COMPARE_STYLE = `
#summary{margin:0;padding-left:20px}#summary li{font-size:15px;margin:3px 0}
.warn-box ul,.error-box ul{margin:4px 0 0;padding-left:20px}
dl.setup{margin-top:14px}
.service h3{font-size:14px;margin:20px 0 6px}
.service h2{text-transform:capitalize}
.chart-pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.chart-pair{grid-template-columns:1fr}}
table.cost tr.knee td{background:#ddf4ff;font-weight:600}
.knee-mark{font-size:11px;font-weight:600;color:#0969da;margin-left:4px}
`;
