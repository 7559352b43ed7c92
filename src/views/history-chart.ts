// The status page's picture of the last day: used connections by owner (Coder's stacked
// under everyone else's) against the available slots, the margin line and where each
// budget would bring them, over the demand window. Inline SVG with presentation attributes:
// no script, no font, no stylesheet of its own, so the page's policy (nothing external,
// no script) holds. It draws the model's figures (model/history.ts) and computes none.

import type { HistoryPoint } from '../model/history.js';
import { formatDuration } from '../model/wording.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 1100;
const HEIGHT = 230;
/** The plot's margins; the left and right ones grow when the axis or line labels need more. */
const PLOT = { left: 40, top: 10, right: 60, bottom: 26 };
const PLOT_HEIGHT = HEIGHT - PLOT.top - PLOT.bottom;
/** The gap between the plot and the text beside it. */
const GAP = 6;
const LABEL_FONT_SIZE = 12;
const AXIS_FONT_SIZE = 11;

/**
 * The width a character of the chart's text is taken to span, in em. The SVG cannot measure
 * its text, so a label's room is reserved from its length: in DejaVu Sans Bold (what
 * system-ui falls back on under Linux, and among the widest common faces) the labels
 * average 0.6 em a character; 0.7 keeps a wider face from cutting them at the edge.
 */
const CHAR_EM = 0.7;
const textWidth = (text: string, fontSize: number) => text.length * CHAR_EM * fontSize;

/**
 * At most this many points are drawn per series: more than the plot has pixel columns is
 * weight without detail. Beyond it the busiest poll of each column is drawn, so peaks stay.
 */
const MAX_DRAWN = 600;

/** The colours of the slot bar and the dashboard for the same things. */
const colour = { coder: '#1f60c4', other: '#ff9830', available: '#111827', margin: '#6b7280', steady: '#111827', rollout: '#7c2d12' };

type Series = 'coder' | 'used' | 'available' | 'margin' | 'steadyReach' | 'rolloutReach';

export interface HistoryChartInput {
  points: readonly HistoryPoint[];
  windowMs: number;
  /** The margin, for the legend's words. */
  safetyMargin: number;
}

/** The busiest point of each pixel column, when there are more points than columns. */
function drawnPoints(points: readonly HistoryPoint[]): readonly HistoryPoint[] {
  if (points.length <= MAX_DRAWN) return points;
  const t0 = (points[0] as HistoryPoint).at;
  const span = (points.at(-1) as HistoryPoint).at - t0 || 1;
  const columns = new Map<number, HistoryPoint>();
  for (const point of points) {
    const column = Math.min(MAX_DRAWN - 1, Math.floor(((point.at - t0) / span) * MAX_DRAWN));
    const kept = columns.get(column);
    if (kept === undefined || (point.used ?? -1) > (kept.used ?? -1)) columns.set(column, point);
  }
  return [...columns.values()];
}

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten. */
function niceCeiling(value: number): number {
  if (value <= 0) return 10;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value) as number);
}

const utcTime = (ms: number) => new Date(ms).toISOString().slice(11, 16);

export function renderHistoryChart({ points, windowMs, safetyMargin }: HistoryChartInput): SafeHtml {
  const known = points.filter((point) => point.used !== null);
  if (known.length === 0) return html`<p class="none">No poll with figures yet: the picture starts with the first poll of PostgreSQL.</p>`;
  const drawn = drawnPoints(points);
  const t0 = (points[0] as HistoryPoint).at;
  const t1 = (points.at(-1) as HistoryPoint).at;
  const finite = drawn.flatMap((point) => [point.used, point.available, point.margin, point.steadyReach, point.rolloutReach]).filter((v): v is number => v !== null && Number.isFinite(v));
  const yMax = niceCeiling(Math.max(...finite) * 1.05);

  // An unbounded budget reaches past any axis: it is drawn along the top.
  const y = (value: number) => PLOT.top + PLOT_HEIGHT - (Math.min(value, yMax) / yMax) * PLOT_HEIGHT;

  const last = points.at(-1) as HistoryPoint;
  const labels = (
    [
      ['available', 'available', colour.available],
      ['margin', `${Math.round(safetyMargin * 100)}% margin`, colour.margin],
      ['steadyReach', 'used at the steady budget', colour.steady],
      ['rolloutReach', 'used at the rollout budget', colour.rollout],
    ] as const
  )
    .filter(([series]) => last[series] !== null)
    .map(([series, name, fill]) => {
      const value = last[series] as number;
      return { y: y(value), text: `${name} ${Number.isFinite(value) ? value : 'unbounded'}`, fill };
    })
    .sort((a, b) => a.y - b.y);
  // Labels closer than a line apart are pushed down so that none hides another.
  for (let i = 1; i < labels.length; i++) labels[i]!.y = Math.max(labels[i]!.y, labels[i - 1]!.y + 13);
  // ... and pulled back up where the push ran them past the bottom edge.
  for (let i = labels.length - 1; i >= 0; i--) labels[i]!.y = Math.min(labels[i]!.y, i === labels.length - 1 ? HEIGHT - 6 : labels[i + 1]!.y - 13);

  // The plot gives up the width its longest line label and tick label need, so that no
  // label runs off the picture ("used at the rollout budget unbounded" did at 170 units).
  const left = Math.max(PLOT.left, Math.ceil(GAP + textWidth(String(yMax), AXIS_FONT_SIZE)));
  const right = Math.max(PLOT.right, Math.ceil(2 * GAP + Math.max(0, ...labels.map((label) => textWidth(label.text, LABEL_FONT_SIZE)))));
  const plotWidth = WIDTH - left - right;
  const x = (at: number) => left + (t1 === t0 ? plotWidth : ((at - t0) / (t1 - t0)) * plotWidth);
  const xy = (at: number, value: number) => `${x(at).toFixed(1)},${y(value).toFixed(1)}`;

  /** The runs of consecutive points where the series is known: a gap is a poll that could not tell. */
  const runs = (series: Series): HistoryPoint[][] => {
    const out: HistoryPoint[][] = [[]];
    for (const point of drawn) {
      if (point[series] === null) out.push([]);
      else (out.at(-1) as HistoryPoint[]).push(point);
    }
    return out.filter((run) => run.length > 0);
  };
  const line = (series: Series, stroke: string, dash: string | null) =>
    runs(series).map(
      (run) =>
        html`<polyline class="series-${series}" fill="none" stroke="${stroke}" stroke-width="${series === 'used' || series === 'coder' ? 1.5 : 2}"${dash ? html` stroke-dasharray="${dash}"` : ''} points="${run.map((p) => xy(p.at, p[series] as number)).join(' ')}"/>`,
    );
  /** The area under `top` down to `bottom` (0 when null), for the runs where `top` is known. */
  const area = (top: 'coder' | 'used', bottom: 'coder' | null, fill: string) =>
    runs(top)
      .map((run) => run.filter((p) => bottom === null || p[bottom] !== null))
      .filter((run) => run.length > 0)
      .map((run) => {
        const upper = run.map((p) => xy(p.at, p[top] as number));
        const lower = [...run].reverse().map((p) => xy(p.at, bottom === null ? 0 : (p[bottom] as number)));
        // A lone poll is drawn as a sliver 3 units wide, so that it shows.
        const lone = run.length === 1 ? (run[0] as HistoryPoint) : null;
        const sliver = (value: number) => `${(x((lone as HistoryPoint).at) - 3).toFixed(1)},${y(value).toFixed(1)}`;
        const outline = lone ? [sliver(lone[top] as number), ...upper, ...lower, sliver(bottom === null ? 0 : (lone[bottom] as number))] : [...upper, ...lower];
        return html`<polygon class="area-${bottom === null ? top : 'other'}" fill="${fill}" fill-opacity="0.55" stroke="none" points="${outline.join(' ')}"/>`;
      });

  const ticks = [0, yMax / 2, yMax].map(
    (value) =>
      html`<line x1="${left}" x2="${left + plotWidth}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e7eb"/><text x="${left - GAP}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end" font-size="${AXIS_FONT_SIZE}" fill="#6b7280">${value}</text>`,
  );
  const span = formatDuration((t1 - t0) / 1000);
  const summary = `Used connections over the last ${span}: ${known.length} polls; now ${last.used ?? 'unknown'} used of ${last.available ?? 'unknown'} available.`;

  return html`<svg class="history" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${summary}" data-points="${points.length}" data-y-max="${yMax}" data-plot="${left} ${PLOT.top} ${plotWidth} ${PLOT_HEIGHT}" font-family="system-ui, sans-serif">
  ${ticks}
  ${area('coder', null, colour.coder)}${area('used', 'coder', colour.other)}
  ${line('used', '#374151', null)}${line('coder', colour.coder, null)}
  ${line('available', colour.available, null)}${line('margin', colour.margin, '6 4')}${line('steadyReach', colour.steady, '3 3')}${line('rolloutReach', colour.rollout, '8 3 2 3')}
  ${labels.map((label) => html`<text x="${left + plotWidth + GAP}" y="${(label.y + 4).toFixed(1)}" font-size="${LABEL_FONT_SIZE}" font-weight="600" fill="${label.fill}">${label.text}</text>`)}
  <text x="${left}" y="${HEIGHT - 6}" font-size="${AXIS_FONT_SIZE}" fill="#6b7280">${utcTime(t0)} UTC</text>
  <text x="${left + plotWidth / 2}" y="${HEIGHT - 6}" font-size="${AXIS_FONT_SIZE}" fill="#6b7280" text-anchor="middle">last ${span} of a ${formatDuration(windowMs / 1000)} window</text>
  <text x="${left + plotWidth}" y="${HEIGHT - 6}" font-size="${AXIS_FONT_SIZE}" fill="#6b7280" text-anchor="end">${utcTime(t1)} UTC</text>
</svg>
<ul class="chart-legend" style="list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;color:#374151">
  <li><i class="swatch" style="background:${colour.coder}"></i>Coder's connections</li>
  <li><i class="swatch" style="background:${colour.other}"></i>other applications and the monitor (stacked: the top is all used)</li>
  <li><i class="swatch" style="background:none;height:0;border-top:2px solid ${colour.available}"></i>available slots</li>
  <li><i class="swatch" style="background:none;height:0;border-top:2px dashed ${colour.margin}"></i>margin line</li>
  <li><i class="swatch" style="background:none;height:0;border-top:2px dotted ${colour.steady}"></i>steady / <span style="color:${colour.rollout}">rollout</span> budget: what would be used if Coder opened all of it</li>
</ul>`;
}
