import type { Latchkey } from '../../app/latchkey.js';
import type { LatchkeyConfig } from '../../config/config.js';

/** The parsed options every command group shares (`node:util` parseArgs). */
export interface CommandOptions {
  now: boolean;
  limit: string;
  scopes: string;
  audiences?: string | undefined;
  failed: boolean;
  from?: string | undefined;
  to?: string | undefined;
  sessions: boolean;
  'from-redis'?: string | undefined;
  'to-redis'?: string | undefined;
  events?: string | undefined;
  search?: string | undefined;
  user?: string | undefined;
  cursor?: string | undefined;
}

/** What a command run is given: the opened core (when it asked for one), its words and options. */
export interface CommandContext {
  config: LatchkeyConfig;
  sub: string | undefined;
  positionals: string[];
  values: CommandOptions;
}

/**
 * One command group of `latchkey` (`users`, `keys`, ...): its usage lines and its run. A new
 * group is a new module in this folder plus one line in `index.ts`.
 */
export type Command =
  | {
      name: string;
      usage: string;
      /** Opens the core over the configured store (locking an embedded store) around `run`. */
      opensCore: true;
      run(latchkey: Latchkey, context: CommandContext): Promise<number>;
    }
  | {
      name: string;
      usage: string;
      opensCore: false;
      run(context: CommandContext): Promise<number>;
    };

/** Prints rows as an aligned plain-text table. */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const headers = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => headers.map((h) => String((row[h] as string | number | undefined) ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** A refusal for a command used the wrong way: prints its usage, exit code 1. */
export function usageError(command: Command): number {
  console.error(`Usage:\n${command.usage}`);
  return 1;
}
