/** Placeholder entry for `latchkey bench`; the harness lives in bench/ (issue: Benchmarks). */
export function runBenchmarks(_args: string[]): number {
  console.error('latchkey bench: not available yet in this build; run `npm run bench` from a checkout');
  return 1;
}
