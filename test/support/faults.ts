// The fault suite's one line per case, printed only once the case's assertions passed, so
// that the suite's output names every fault it survived and how.

export function reportFault(name: string, outcome: string): void {
  console.log(`FAULT ${name}: ok, ${outcome}`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
