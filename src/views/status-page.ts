// The status page at `/`: does Coder fit in PostgreSQL, at a glance, from the latest
// poll. Server-rendered, no script and no external asset (air-gapped clusters), it
// refreshes itself. Every interpolated string is escaped by the html`` tag: label values
// and error messages come from remote systems.

import type { PostgresFacts } from '../model/snapshot.js';
import type { PollResult } from '../model/poll-result.js';
import type { Finding } from '../model/finding.js';
import { assess, type Assessment } from '../model/verdict.js';
import { figureRows } from './figures.js';
import type { PollHistory } from '../model/history.js';
import { renderHistoryChart } from './history-chart.js';
import { formatDuration } from '../model/wording.js';
import { otherBudgetRows } from './other-budget-rows.js';
import { coderTableRows, plannedOnly, replicaRows } from './replica-rows.js';
import { poolerFigureRows, poolerInstanceRows } from './pooler-rows.js';
import { redactUrl } from '../redact.js';
import { html, raw, type SafeHtml } from './html.js';
import { renderSlotBar } from './slot-bar.js';
import { statusPageStyle } from './status-page-style.js';

export interface StatusPageInfo {
  version: string;
  /** ms since the epoch; for "polled 3 s ago". */
  now?: number;
  /** How often the browser reloads the page. */
  refreshSeconds?: number;
  /** The polls of the demand window, for the picture of the last day; none = no picture. */
  history?: Pick<PollHistory, 'points' | 'windowMs'>;
}

const DEFAULT_REFRESH_SECONDS = 15;

export function renderStatusPage(result: PollResult | null, info: StatusPageInfo): string {
  const assessment = assess(result);
  const now = info.now ?? Date.now();
  const refresh = info.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  const body = html`<main>
${renderHeader(result, info.version, now)}
${renderVerdict(assessment)}
${renderCapacity(result)}
${renderHistory(result, info.history)}
${
  // Without figures (PostgreSQL down) the findings and replicas take the whole width.
  result?.capacity
    ? html`<div class="columns"><div>${renderFigures(result)}</div><div>${renderFindings(assessment.findings)}${renderReplicas(result)}${renderPooler(result)}${renderOtherBudgets(result)}</div></div>`
    : html`<div class="single">${renderFindings(assessment.findings)}${renderReplicas(result)}${renderPooler(result)}</div>`
}
<footer>Reloads every ${refresh} s. Also: <a href="metrics">/metrics</a> · <a href="api/v1/capacity">/api/v1/capacity</a> · <a href="readyz">/readyz</a></footer>
</main>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${assessment.verdict} · coder-pg-capacity</title>
<style>${raw(statusPageStyle)}</style>
</head>
<body>
${body}
</body>
</html>
`.text;
}

function describeServer(pg: PostgresFacts): string {
  const { session } = pg;
  return `PostgreSQL ${pg.serverVersion} · port ${session.port ?? 'unknown'} · database ${session.database} · user ${session.user}`;
}

function renderHeader(result: PollResult | null, version: string, now: number): SafeHtml {
  const when = result
    ? `polled ${new Date(result.completedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC (${Math.max(0, Math.round((now - result.completedAt) / 1000))} s ago)`
    : 'not polled yet';
  const server = result?.snapshot.postgres ? describeServer(result.snapshot.postgres) : null;
  return html`<header class="top"><div><strong>coder-pg-capacity</strong> ${version}${server ? ` · ${server}` : ''}</div><div>${when}</div></header>`;
}

function renderVerdict(assessment: Assessment): SafeHtml {
  // "Fits" with a warning (the margin not kept, a replica down) reads amber, not green.
  const warned = assessment.findings.some((finding) => finding.severity !== 'notice');
  const tone = assessment.severity ?? (warned ? 'warning' : 'ok');
  return html`<section class="verdict tone-${tone}" id="verdict">
  <h1>${assessment.verdict}</h1>
  <p>${assessment.summary}</p>
  ${assessment.fix ? html`<p class="fix">Fix: ${assessment.fix}</p>` : ''}
</section>`;
}

function renderHistory(result: PollResult | null, history: StatusPageInfo['history']): SafeHtml | '' {
  if (!result || !history) return '';
  const chart = renderHistoryChart({ points: history.points(), windowMs: history.windowMs, safetyMargin: result.snapshot.plan.safetyMargin });
  return html`<section class="card" id="history"><h2>The last ${formatDuration(history.windowMs / 1000)}: used connections against the slots and the budgets</h2>${chart}</section>`;
}

function renderCapacity(result: PollResult | null): SafeHtml | '' {
  if (!result?.capacity) return '';
  const slots = result.capacity.slots;
  return html`<section class="card" id="slots"><h2>PostgreSQL's ${slots.maxConnections} connection slots, and Coder's budget${result.capacity.pooler ? ' on PostgreSQL (through PgBouncer)' : ''}</h2>${renderSlotBar(slots, { poolerCap: result.capacity.pooler?.serverCap })}</section>`;
}

function renderFigures(result: PollResult | null): SafeHtml | '' {
  const pg = result?.snapshot.postgres;
  if (!result?.capacity || !pg) return '';
  const rows = figureRows({ ...result.snapshot, postgres: pg }, result.capacity).map(
    (row) =>
      html`<tr data-figure="${row.id}"><th scope="row">${row.label}</th><td class="num${row.bad ? ' bad' : ''}">${row.value}</td><td class="meaning">${row.meaning}</td></tr>`,
  );
  return html`<section class="card" id="figures"><h2>Figures</h2><table class="figures"><tbody>${rows}</tbody></table></section>`;
}

function renderFinding(finding: Finding): SafeHtml {
  return html`<li class="sev-${finding.severity}" data-finding="${finding.id}"><span class="sev">${finding.severity}</span><b>${finding.title}</b><p>${redactUrl(finding.detail)}</p>${finding.sql ? html`<pre>${finding.sql}</pre>` : ''}</li>`;
}

function renderFindings(findings: Finding[]): SafeHtml {
  const list = findings.length > 0 ? html`<ul class="findings">${findings.map(renderFinding)}</ul>` : html`<p class="none">Nothing to report.</p>`;
  return html`<section class="card" id="findings"><h2>Findings</h2>${list}</section>`;
}

/** Each --other.budget declaration beside what it covers now: the operator sees which matched what. */
/** The PgBouncer layer: its figures (client side, server side, what reaches PostgreSQL) and each instance. */
function renderPooler(result: PollResult | null): SafeHtml | '' {
  if (!result?.snapshot.pooler) return '';
  const figures = result.capacity
    ? html`<table class="figures"><tbody>${poolerFigureRows(result.capacity).map(
        (row) => html`<tr data-figure="${row.id}"><th scope="row">${row.label}</th><td class="num${row.bad ? ' bad' : ''}">${row.value}</td><td class="meaning">${row.meaning}</td></tr>`,
      )}</tbody></table>`
    : '';
  const rows = poolerInstanceRows(result.snapshot, result.capacity).map(
    (row) => html`<tr data-pgbouncer="${row.instance}">
  <td class="name">${row.instance}</td>
  <td class="${row.up ? 'up' : 'down'}"${row.error ? html` title="${row.error}"` : ''}>${row.up ? 'up' : 'down'}</td>
  <td>${row.pool}</td><td class="${row.modeBad ? 'bad' : ''}">${row.mode}</td><td class="num">${row.poolSize}</td><td class="num">${row.reserve}</td><td class="num">${row.cap}</td><td class="num">${row.maxClientConn}</td><td class="num">${row.clients}</td><td class="num">${row.waiting}</td>
</tr>`,
  );
  const discovery = result.snapshot.pooler.discoveryErrors.map((error) => html`<tr><td colspan="10">${error.message}</td></tr>`);
  const table =
    rows.length > 0 || discovery.length > 0
      ? html`<table class="replicas"><thead><tr><th>instance</th><th>up</th><th>Coder's pool</th><th>mode</th><th class="num">pool_size</th><th class="num">reserve</th><th class="num">cap</th><th class="num">max_client_conn</th><th class="num">clients (Coder / all)</th><th class="num">waiting</th></tr></thead><tbody>${rows}</tbody>${discovery.length > 0 ? html`<tfoot>${discovery}</tfoot>` : ''}</table>`
      : html`<p class="none">No PgBouncer instance found (--pgbouncer.url).</p>`;
  return html`<section class="card" id="pgbouncer"><h2>PgBouncer between Coder and PostgreSQL</h2>${figures}${table}</section>`;
}

function renderOtherBudgets(result: PollResult): SafeHtml | '' {
  const rows = otherBudgetRows(result.capacity);
  if (rows.length === 0) return '';
  const body = rows.map(
    (row) => html`<tr data-other-budget="${row.selector}"><td class="name">${row.selector}</td><td class="num">${row.declared}</td><td class="num${row.stale ? ' bad' : ''}">${row.live}</td></tr>`,
  );
  return html`<section class="card" id="other-budgets"><h2>Other applications (--other.budget)</h2><table class="replicas"><thead><tr><th>declared</th><th class="num">pool</th><th class="num">holds now</th></tr></thead><tbody>${body}</tbody><tfoot><tr><td colspan="3">${result.capacity?.otherCommitted ?? 'unknown'} committed in all, undeclared live connections and the monitor's own included</td></tr></tfoot></table></section>`;
}

function renderReplicas(result: PollResult | null): SafeHtml | '' {
  if (!result) return '';
  const rows = replicaRows(result.snapshot, result.capacity).map(
    (row) => html`<tr data-replica="${row.replica}">
  <td class="name">${row.hostname ? html`${row.hostname} <span class="dim">${redactUrl(row.replica)}</span>` : redactUrl(row.replica)}</td>
  <td class="${row.up ? 'up' : 'down'}">${row.up ? 'up' : 'down'}</td>
  <td class="num">${row.poolMax}</td><td class="num">${row.open}</td><td class="num">${row.inUse}</td><td class="num">${row.idle}</td><td class="num">${row.waits}</td>
  <td class="num">${row.backends}</td><td class="num">${row.outsidePool}</td><td class="num">${row.extra}</td>
</tr>`,
  );
  const planned = plannedOnly(result.snapshot, result.capacity);
  const footer = planned
    ? html`<tfoot><tr><td colspan="10">${planned.text}</td></tr></tfoot>`
    : '';
  const table =
    rows.length > 0 || planned
      ? html`<table class="replicas"><thead><tr><th>replica</th><th>up</th><th class="num">pool max</th><th class="num">open</th><th class="num">in use</th><th class="num">idle</th><th class="num">waits</th><th class="num" title="Coder's backends from its address, as PostgreSQL sees them">backends</th><th class="num" title="backends - open: the LISTEN, a sender">outside pool</th><th class="num" title="what the budget gives it outside its pool">budgeted extra</th></tr></thead><tbody>${rows}</tbody>${footer}</table>`
      : html`<p class="none">No Coder replica configured (--coder.targets).</p>`;
  const own = coderTableRows(result.snapshot).map(
    (row) => html`<tr data-hostname="${row.hostname}"><td class="name">${row.hostname}</td><td>${row.version}</td><td class="num${row.slow ? ' bad' : ''}">${row.latency}</td><td>${row.error === '' ? '–' : row.error}</td></tr>`,
  );
  const coderTable =
    own.length > 0
      ? html`<h3>As Coder sees itself (its replicas table)</h3><table class="replicas"><thead><tr><th>hostname</th><th>version</th><th class="num">its latency to PostgreSQL</th><th>error</th></tr></thead><tbody>${own}</tbody></table>`
      : '';
  return html`<section class="card" id="replicas"><h2>Coder replicas</h2>${table}${coderTable}</section>`;
}
