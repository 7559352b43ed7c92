// JSON for the API: JSON.stringify would turn an infinite budget (an unbounded pool)
// into null, which reads as "unknown"; Prometheus' spelling keeps it honest.

export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v !== 'number' || Number.isFinite(v)) return v;
      if (Number.isNaN(v)) return 'NaN';
      return v > 0 ? '+Inf' : '-Inf';
    },
    2,
  );
}
