// The status page's stylesheet, inlined in the page: air-gapped clusters reach no CDN,
// and a page with a single request is a page that always renders whole.

export const statusPageStyle = `
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; --card:#fff;
  --ok:#15803d; --ok-bg:#dcfce7; --warn:#b45309; --warn-bg:#fef3c7; --bad:#b91c1c; --bad-bg:#fee2e2; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 14px 20px 20px; }
header.top { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; color: var(--muted); font-size: 13px; margin-bottom: 10px; }
header.top strong { color: var(--fg); font-size: 15px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; margin-bottom: 10px; }
.verdict { border-radius: 8px; padding: 10px 18px; margin-bottom: 10px; border: 1px solid; }
.verdict h1 { margin: 0 0 2px; font-size: 30px; line-height: 1.15; }
.verdict p { margin: 2px 0; font-size: 15px; }
.verdict .fix { font-weight: 600; }
.tone-ok { background: var(--ok-bg); border-color: #86efac; } .tone-ok h1 { color: var(--ok); }
.tone-warning { background: var(--warn-bg); border-color: #fcd34d; } .tone-warning h1 { color: var(--warn); }
.tone-critical { background: var(--bad-bg); border-color: #fca5a5; } .tone-critical h1 { color: var(--bad); }
.tone-notice { background: #f3f4f6; border-color: var(--line); }
.columns { display: grid; grid-template-columns: minmax(0, 580px) minmax(0, 1fr); gap: 10px; align-items: start; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px 2px 0; border-bottom: 1px solid var(--line); vertical-align: baseline; }
tr:last-child th, tr:last-child td { border-bottom: 0; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; padding-right: 12px; white-space: nowrap; }
.figures th { font-weight: 500; white-space: nowrap; }
.figures td.num { font-weight: 700; font-size: 15px; }
.figures td.meaning { color: var(--muted); font-size: 12.5px; }
.bad { color: var(--bad); }
.replicas td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; padding-right: 12px; }
.single table.replicas { width: auto; min-width: 50%; }
.replicas tfoot td { color: var(--muted); font-size: 12.5px; border: 0; padding-top: 6px; }
.up { color: var(--ok); font-weight: 600; } .down { color: var(--bad); font-weight: 600; }
ul.findings { list-style: none; margin: 0; padding: 0; }
ul.findings li { padding: 6px 0 6px 10px; border-left: 4px solid var(--line); margin-bottom: 6px; }
ul.findings li.sev-critical { border-color: #dc2626; } ul.findings li.sev-warning { border-color: #f59e0b; } ul.findings li.sev-notice { border-color: #93c5fd; }
ul.findings .sev { font-size: 11px; text-transform: uppercase; font-weight: 700; letter-spacing: .04em; margin-right: 6px; }
.sev-critical .sev { color: var(--bad); } .sev-warning .sev { color: var(--warn); } .sev-notice .sev { color: #1d4ed8; }
ul.findings p { margin: 2px 0 0; color: #374151; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f3f4f6; border-radius: 4px; padding: 4px 8px; margin: 4px 0 0; white-space: pre-wrap; }
.none { color: var(--muted); margin: 0; }
.dim { color: var(--muted); }
.slotbar { position: relative; margin: 0 0 4px; }
.markers-above { position: relative; height: 38px; }
.marker { position: absolute; height: 20px; white-space: nowrap; font-size: 12.5px; font-weight: 600; }
.marker-steady { top: 0; } .marker-rollout { top: 20px; }
.marker span { position: absolute; bottom: 2px; }
.grow-right span { left: 0; padding-left: 4px; border-left: 2px solid currentColor; }
.grow-left span { right: 0; padding-right: 4px; border-right: 2px solid currentColor; }
.marker-steady { color: #111827; } .marker-rollout { color: #7c2d12; }
.bar { position: relative; display: flex; height: 46px; border-radius: 4px; overflow: visible; background: #fff; }
.seg { height: 100%; display: flex; align-items: center; justify-content: center; font-size: 12.5px; font-weight: 700; overflow: hidden; color: #fff; border-right: 1px solid rgba(255,255,255,.6); }
/* The Grafana dashboard's colours for the same bands: reserved purple, other orange, Coder blue, free green. */
.seg-superuser_reserved { background: #8f3bb8; } .seg-reserved { background: #a352cc; } .seg-provider { background: #deb6f2; color: #4c1d95; }
.seg-other { background: #ff9830; color: #431407; } .seg-other_unopened { background: repeating-linear-gradient(135deg, #ffe0c2 0 6px, #ffc994 6px 12px); color: #431407; } .seg-coder_active { background: #1f60c4; } .seg-coder_idle { background: #5794f2; }
.seg-coder_unopened { background: repeating-linear-gradient(135deg, #dbe8ff 0 6px, #c0d8ff 6px 12px); color: #1e3a8a; }
.seg-free { background: #73bf69; color: #052e16; }
.seg-over-steady { background: #dc2626; }
.seg-over-rollout { background: repeating-linear-gradient(135deg, #fca5a5 0 6px, #f87171 6px 12px); color: #7f1d1d; }
.limit { position: absolute; top: -6px; bottom: -6px; width: 3px; margin-left: -1px; background: #111827; }
.budget-line { position: absolute; top: -20px; bottom: 0; width: 0; margin-left: -1px; border-left: 2px dashed; }
.budget-steady { border-color: #111827; top: -20px; } .budget-rollout { border-color: #7c2d12; top: -2px; }
.axis { position: relative; height: 20px; font-size: 12px; color: var(--muted); }
.tick { position: absolute; top: 3px; white-space: nowrap; }
.tick-limit { transform: translateX(-50%); color: var(--fg); font-weight: 600; }
.tick-limit.at-end { transform: translateX(-100%); }
ul.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12.5px; color: #374151; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
footer a { color: inherit; }
`;
