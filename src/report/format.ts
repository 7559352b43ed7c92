// Numbers as people read them, the same on the status page and in the terminal.

/** Numbers as people read them: infinities spelled out, everything else as is. */
export function formatCount(value: number | null): string {
  if (value === null) return 'n/a';
  if (value === Number.POSITIVE_INFINITY) return 'unbounded';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'all (no slot available)';
}
