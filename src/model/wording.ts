// Numbers as people read them, the same on the status page and in the terminal.

/** Numbers as people read them: infinities spelled out, a figure the monitor cannot know as "unknown". */
export function formatCount(value: number | null): string {
  if (value === null) return 'unknown';
  if (value === Number.POSITIVE_INFINITY) return 'unbounded';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'all (no slot available)';
}

/** "1 replica", "3 replicas". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A span of time as people say it: "45 s", "12 min", "24 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
