const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `30m`, `12h`, `7d`, `10s`, `250ms` or a bare number of seconds.
 * Returns milliseconds, or null when the text is not a positive duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,10})(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]);
  const unit = UNITS[match[2] ?? 's'] ?? 1000;
  const ms = value * unit;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
