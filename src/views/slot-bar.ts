// The slot bar of the status page: PostgreSQL's max_connections slots as one stacked
// horizontal bar, with the steady and rollout budgets drawn over it and the part of a
// budget beyond the last slot in red. Plain HTML and CSS widths: no script, no image.

import { slotParts, type SlotComposition, type SlotPart } from '../model/slots.js';
import { formatCount } from '../model/wording.js';
import { html, type SafeHtml } from './html.js';

/** The words for each part, as the dashboard's legend has them. */
export const slotPartLabels: Record<SlotPart, string> = {
  superuser_reserved: 'superuser reserved',
  reserved: 'reserved',
  provider: 'provider',
  other: 'other apps',
  other_unopened: 'other apps, declared not yet open',
  coder_active: 'Coder active',
  coder_idle: 'Coder idle',
  coder_unopened: 'Coder budget not yet open',
  free: 'free',
  overcommit: 'overcommit',
};

interface Segment {
  part: SlotPart;
  label: string;
  slots: number;
}

/** How far past max_connections the bar reaches for an unbounded budget. */
const UNBOUNDED_OVERHANG = 0.25;

function percent(slots: number, scale: number): string {
  return `${((slots / scale) * 100).toFixed(3)}%`;
}

export interface SlotBarOptions {
  /** PgBouncer's server cap for Coder (the model's): the budgets drawn are then what reaches PostgreSQL. */
  poolerCap?: number | null;
}

export function renderSlotBar(slots: SlotComposition, options: SlotBarOptions = {}): SafeHtml {
  const M = slots.maxConnections;
  // The parts inside max_connections, in order; overcommit is drawn past the last slot.
  const inside: Segment[] = slotParts
    .filter((part) => part !== 'overcommit' && slots.parts[part] !== undefined)
    .map((part) => ({ part, label: slotPartLabels[part], slots: slots.parts[part] as number }));
  const known = slots.rolloutEnd !== null && slots.steadyEnd !== null && slots.budgetStart !== null && slots.overcommit !== null;
  const bounded = known && Number.isFinite(slots.rolloutEnd);
  const used = inside.reduce((sum, segment) => sum + segment.slots, 0);
  // The bar spans every slot plus whatever a budget claims beyond them.
  const scale = Math.max(M, used, bounded ? (slots.rolloutEnd as number) : known ? M * (1 + UNBOUNDED_OVERHANG) : M, 1);
  const steadyOver = !known ? 0 : bounded ? (slots.overcommit?.steady ?? 0) : scale - M;
  const rolloutOver = bounded ? (slots.overcommit?.rollout ?? 0) - (slots.overcommit?.steady ?? 0) : 0;

  const segments = inside
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
  const capped = options.poolerCap === undefined || options.poolerCap === null ? '' : ` on PostgreSQL (PgBouncer cap ${options.poolerCap})`;
  const budgetText = (name: string, end: number) => `${name} budget ${bounded ? formatCount(end - (slots.budgetStart as number)) : 'unbounded'}${capped}`;

  const legend = [
    // Other applications' declared pools appear only where some are declared and unopened.
    ...inside
      .filter((segment) => segment.part !== 'other_unopened' || segment.slots > 0)
      .map((segment) => html`<li><i class="swatch seg-${segment.part}"></i>${segment.label} <b>${segment.slots}</b></li>`),
    // Overcommit only when there is some: a legend entry of 0 would read as a problem.
    steadyOver > 0 &&
      html`<li><i class="swatch seg-over-steady"></i>overcommit, steady <b>${bounded ? steadyOver : '∞'}</b></li>`,
    rolloutOver > 0 && html`<li><i class="swatch seg-over-rollout"></i>overcommit, rollout <b>${slots.overcommit?.rollout ?? 0}</b></li>`,
  ];
  // Without a known budget there is nothing to mark: the bar shows what PostgreSQL holds.
  const budgetMarkers = known
    ? html`<div class="markers-above">
    ${marker(slots.steadyEnd as number, 'steady', budgetText('steady', slots.steadyEnd as number))}
    ${marker(slots.rolloutEnd as number, 'rollout', budgetText('rollout', slots.rolloutEnd as number))}
  </div>`
    : '';
  const budgetLines = known
    ? html`<div class="budget-line budget-steady" style="left:${percent(Math.min(slots.steadyEnd as number, scale), scale)}"></div>
    <div class="budget-line budget-rollout" style="left:${percent(Math.min(slots.rolloutEnd as number, scale), scale)}"></div>`
    : '';

  return html`<div class="slotbar" role="img" aria-label="${`${M} slots: ${inside.map((s) => `${s.label} ${s.slots}`).join(', ')}`}">
  ${budgetMarkers}
  <div class="bar">
    ${segments}${overcommit}
    <div class="limit" style="left:${percent(M, scale)}"></div>
    ${budgetLines}
  </div>
  <div class="axis">
    <span class="tick" style="left:0">0</span>
    <span class="tick tick-limit${M / scale > 0.9 ? ' at-end' : ''}" style="left:${percent(M, scale)}">max_connections ${M}</span>
  </div>
</div>
<ul class="legend">${legend}</ul>`;
}
