import { copyStore, COPY_KINDS, type CopyCounts, type CopyKind, type CopyReport } from '../../app/copy.js';
import {
  assertSourceExists,
  openCopyLocation,
  parseCopyLocation,
  resolveCopySecret,
  sameLocation,
  writeTargetSecret,
  type OpenedLocation,
} from '../../app/copy-locations.js';
import { table, usageError, type Command } from './command.js';

const LABELS: Record<CopyKind, string> = {
  users: 'users',
  factors: 'second factors',
  keys: 'signing keys',
  clients: 'machine clients',
  sessions: 'sessions',
  refreshTokens: 'refresh tokens',
  revocations: 'revocations',
};

function summary(counts: CopyCounts): string {
  const seen = counts.created + counts.updated + counts.present + counts.conflicts + counts.skipped;
  const parts = (['created', 'updated', 'present', 'conflicts', 'skipped'] as const)
    .filter((outcome) => counts[outcome] > 0)
    .map((outcome) => `${counts[outcome]} ${outcome === 'present' ? 'already present' : outcome}`);
  return `${seen}${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`;
}

/** The progress line on stderr: rewritten in place on a terminal, one line per page elsewhere. */
function progressLine(kind: CopyKind, counts: CopyCounts): void {
  const line = `copying ${LABELS[kind]}: ${summary(counts)}`;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

function printReport(report: CopyReport, withSessions: boolean): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const kinds = COPY_KINDS.filter(
    (kind) => withSessions || (kind !== 'sessions' && kind !== 'refreshTokens'),
  );
  console.log(
    table(
      kinds.map((kind) => ({
        records: LABELS[kind],
        created: report.counts[kind].created,
        updated: report.counts[kind].updated,
        present: report.counts[kind].present,
        conflicts: report.counts[kind].conflicts,
        skipped: report.counts[kind].skipped,
      })),
    ),
  );
  for (const line of report.conflicts) console.error(`conflict: ${line}`);
}

/** `latchkey copy --from <store> --to <store> [--sessions]`. */
export const copyCommand: Command = {
  name: 'copy',
  usage: `  copy --from <store> --to <store> [--sessions] [--from-redis <url>] [--to-redis <url>]
                             Copy users, signing keys, clients and revocations (with --sessions,
                             live sessions and refresh tokens) to another store; <store> is a
                             data directory, sqlite:DIR, pglite:DIR, or a postgres://, mysql://,
                             mariadb:// or redis:// URL (see docs/deploying.md)`,
  opensCore: false,
  async run({ config, sub, values }) {
    const from = values.from;
    const to = values.to;
    if (sub !== undefined || from === undefined || to === undefined) return usageError(copyCommand);
    const source = parseCopyLocation(from, { base: config, redis: values['from-redis'] });
    const target = parseCopyLocation(to, { base: config, redis: values['to-redis'] });
    if (sameLocation(source, target)) {
      console.error('copy: --from and --to name the same store');
      return 1;
    }
    assertSourceExists(source);
    const secret = await resolveCopySecret(config, source, target);
    const opened: OpenedLocation[] = [];
    try {
      const sourceStore = await openCopyLocation(source, { role: 'source' });
      opened.push(sourceStore);
      const targetStore = await openCopyLocation(target, { role: 'target' });
      opened.push(targetStore);
      await writeTargetSecret(target, secret);
      console.error(`copy: from ${source.label} to ${target.label}`);
      const report = await copyStore({
        source: sourceStore.store,
        target: targetStore.store,
        secret: secret.secret,
        sessions: values.sessions,
        onProgress: progressLine,
      });
      printReport(report, values.sessions);
      if (secret.from === 'source-file' && target.dataDir === null) {
        console.error(
          'copy: the source runs with the secret in its data directory: the target servers need ' +
            `LATCHKEY_SECRET set to the content of ${source.dataDir ?? ''}/secret`,
        );
      }
      return report.conflicts.length === 0 ? 0 : 2;
    } finally {
      for (const location of opened.reverse()) await location.close();
    }
  },
};
