// The slot bar of the status page: PostgreSQL's max_connections slots as one stacked
// horizontal bar, with the steady and rollout budgets drawn over it and the part of a
// budget beyond the last slot in red. Plain HTML and CSS widths: no script, no image.

import { html, type SafeHtml } from './html.js';
import type { SlotComposition } from '../report/slots.js';
import { formatCount } from '../report/format.js';

/** How far past max_connections the bar reaches for an unbounded budget. */
const UNBOUNDED_OVERHANG = 0.25;

function percent(slots: number, scale: number): string {
  return `${((slots / scale) * 100).toFixed(3)}%`;
}

export function renderSlotBar(slots: SlotComposition): SafeHtml {
  const M = slots.maxConnections;
  const bounded = Number.isFinite(slots.rolloutEnd);
  const used = slots.segments.reduce((sum, segment) => sum + segment.slots, 0);
  // The bar spans every slot plus whatever a budget claims beyond them.
  const scale = Math.max(M, used, bounded ? slots.rolloutEnd : M * (1 + UNBOUNDED_OVERHANG), 1);
  const steadyOver = bounded ? slots.overcommit.steady : scale - M;
  const rolloutOver = bounded ? slots.overcommit.rollout - slots.overcommit.steady : 0;

  const segments = slots.segments
    .filter((segment) => segment.slots > 0)
    .map(
      (segment) =>
        html`<div class="seg seg-${segment.part}" style="width:${percent(segment.slots, scale)}" title="${segment.label}: ${segment.slots}">${segment.slots >= scale / 25 ? segment.slots : ''}</div>`,
    );
  const overcommit = [
    steadyOver > 0 &&
      html`<div class="seg seg-over-steady" style="width:${percent(steadyOver, scale)}" title="steady budget beyond the slots: ${bounded ? steadyOver : 'unbounded'}">${bounded ? `+${steadyOver}` : '∞'}</div>`,
    rolloutOver > 0 &&
      html`<div class="seg seg-over-rollout" style="width:${percent(rolloutOver, scale)}" title="rollout budget beyond the slots: ${rolloutOver} more">+${rolloutOver}</div>`,
  ];

  const marker = (position: number, kind: string, text: string) => {
    const at = Math.min(position, scale);
    // Labels near the right end grow leftwards so they stay on screen.
    const side = at / scale > 0.5 ? 'left' : 'right';
    return html`<div class="marker marker-${kind} grow-${side}" style="left:${percent(at, scale)}"><span>${text}</span></div>`;
  };
  const budgetText = (name: string, end: number) => `${name} budget ${bounded ? formatCount(end - slots.budgetStart) : 'unbounded'}`;

  const legend = [
    ...slots.segments.map((segment) => html`<li><i class="swatch seg-${segment.part}"></i>${segment.label} <b>${segment.slots}</b></li>`),
    // Overcommit only when there is some: a legend entry of 0 would read as a problem.
    slots.overcommit.steady > 0 &&
      html`<li><i class="swatch seg-over-steady"></i>overcommit, steady <b>${bounded ? slots.overcommit.steady : '∞'}</b></li>`,
    rolloutOver > 0 && html`<li><i class="swatch seg-over-rollout"></i>overcommit, rollout <b>${slots.overcommit.rollout}</b></li>`,
  ];

  return html`<div class="slotbar" role="img" aria-label="${`${M} slots: ${slots.segments.map((s) => `${s.label} ${s.slots}`).join(', ')}`}">
  <div class="markers-above">
    ${marker(slots.steadyEnd, 'steady', budgetText('steady', slots.steadyEnd))}
    ${marker(slots.rolloutEnd, 'rollout', budgetText('rollout', slots.rolloutEnd))}
  </div>
  <div class="bar">
    ${segments}${overcommit}
    <div class="limit" style="left:${percent(M, scale)}"></div>
    <div class="budget-line budget-steady" style="left:${percent(Math.min(slots.steadyEnd, scale), scale)}"></div>
    <div class="budget-line budget-rollout" style="left:${percent(Math.min(slots.rolloutEnd, scale), scale)}"></div>
  </div>
  <div class="axis">
    <span class="tick" style="left:0">0</span>
    <span class="tick tick-limit${M / scale > 0.9 ? ' at-end' : ''}" style="left:${percent(M, scale)}">max_connections ${M}</span>
  </div>
</div>
<ul class="legend">${legend}</ul>`;
}
