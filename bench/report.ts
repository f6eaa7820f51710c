/** Renders the benchmark report: docs/benchmarks.md and the SVG chart docs/benchmarks.svg. */

import { formatCount, formatMicros, formatMs, formatRatio } from './lib/stats.js';
import type { MillionReport } from './lib/million.js';
import type { ProfileSummary } from './lib/profile.js';
import type { VerifyResults } from './verify-compare.js';

export interface HTTPRow {
  id: string;
  label: string;
  group: 'ceiling' | 'floor' | 'session' | 'jwt-reused' | 'jwt-new' | 'hybrid' | 'today';
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /**
   * Median req/s of this setup's ceiling: the same load on a no-auth route of the same server
   * process (same hooks and plugins, a body of the same shape), run next to each of its loads.
   * NaN for the bare Fastify reference, which has none.
   */
  ceilingRPS: number;
  ceilingErrors: number;
  /** Median over rounds of req/s divided by the req/s of its same-server ceiling load next to it. */
  ratio: number;
  /** Median over rounds of req/s divided by the bare Fastify reference's req/s in the same round. */
  bareRatio: number;
  /** The server process's CPU time (utime + stime) per request during the loads, µs; NaN if unknown. */
  cpuPerRequest: number;
  /** The same on its ceiling route. */
  ceilingCpuPerRequest: number;
}

export interface TargetRow {
  name: string;
  measured: number;
  target: number;
  lowerIsBetter?: boolean;
  /** The unit of a lower-is-better figure (default `ms`). */
  unit?: string;
}

export interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface BenchReport {
  quick: boolean;
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
  tool: string;
  rounds: number;
  seconds: number;
  /** Length of each same-server ceiling load. */
  ceilingSeconds: number;
  latencySeconds: number;
  connections: number;
  pool: number;
  verifyRounds: number;
  verifyMs: number;
  verify: VerifyResults;
  http: HTTPRow[];
  /** Median req/s of the bare Fastify reference (`bench/servers/no-auth.ts`). */
  bareRPS: number;
  /** p50 at one connection, and of the same server's no-auth route just before (NaN for bare). */
  latency1: Array<{ id: string; label: string; p50: number; ceilingP50: number }>;
  login: Throughput | null;
  refresh: Throughput | null;
  revocation: {
    samples: number;
    p50: number;
    p99: number;
    max: number;
    afterResponseP50: number;
    afterResponseP99: number;
  } | null;
  revocationExternal: string | null;
  storage: { redis: string | null; sql: string | null } | null;
  /** The `million` section: many sessions in a Redis of the run's own, read at random. */
  million: MillionReport | null;
  /** Resident memory of the Latchkey servers after the loads, and their peak since start (Linux). */
  memory: Array<{ label: string; rssMiB: number; peakMiB: number }> | null;
  targets: TargetRow[];
  profiles: ProfileSummary[];
  dropped: string[];
  durationSeconds: number;
}

const COLORS: Record<HTTPRow['group'], string> = {
  ceiling: '#888888',
  session: '#2b6cb0',
  'jwt-reused': '#2f855a',
  'jwt-new': '#68d391',
  hybrid: '#805ad5',
  today: '#dd6b20',
  floor: '#718096',
};
const CEILING_FILL = '#e2e8f0';

const escapeXML = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const finite = (n: number): number => (Number.isFinite(n) ? n : 0);

/** A step for axis ticks: 1, 2 or 5 times a power of ten, about `max / 5`. */
function tickStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? power * 10;
}

/**
 * A horizontal bar per setup: its protected-route req/s, drawn over a light bar for its own
 * ceiling (the same server's no-auth route), labelled with the ratio of the two; a dashed line
 * marks the bare Fastify reference.
 */
export function renderChart(report: BenchReport): string {
  const rowHeight = 24;
  const labelWidth = 500;
  const barWidth = 380;
  const top = 62;
  const max =
    Math.max(
      1,
      ...report.http.flatMap((r) => [finite(r.rps), finite(r.ceilingRPS)]),
      finite(report.bareRPS),
    ) * 1.02;
  const height = top + report.http.length * rowHeight + 40;
  const width = labelWidth + barWidth + 220;
  const x = (rps: number): number => labelWidth + (Math.max(0, finite(rps)) / max) * barWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Protected route req/s, ${report.connections} connections, against each server's own no-auth ceiling (${escapeXML(report.machine.node)}, ${report.machine.cores} cores)</text>`,
    `<rect x="10" y="31" width="12" height="12" fill="${COLORS.session}"/>`,
    `<text x="27" y="41">protected route (colour: kind of setup)</text>`,
    `<rect x="270" y="31" width="12" height="12" fill="${CEILING_FILL}" stroke="#a0aec0"/>`,
    `<text x="287" y="41">its ceiling: the same server, a no-auth route with the same body</text>`,
    `<text x="${width - 10}" y="41" text-anchor="end">label: req/s · share of its ceiling</text>`,
  ];
  const bottom = top + report.http.length * rowHeight;
  const step = tickStep(max);
  for (let tick = 0; tick <= max; tick += step) {
    parts.push(
      `<line x1="${x(tick).toFixed(1)}" y1="${top - 4}" x2="${x(tick).toFixed(1)}" y2="${bottom}" stroke="#edf2f7" stroke-width="1"/>`,
      `<text x="${x(tick).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#4a5568">${formatCount(tick)}</text>`,
    );
  }
  for (const [i, r] of report.http.entries()) {
    const y = top + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escapeXML(r.label)}</text>`);
    if (Number.isFinite(r.ceilingRPS))
      parts.push(
        `<rect x="${labelWidth}" y="${y + 2}" width="${(x(r.ceilingRPS) - labelWidth).toFixed(1)}" height="${rowHeight - 4}" fill="${CEILING_FILL}" stroke="#a0aec0" stroke-width="0.5"/>`,
      );
    parts.push(
      `<rect x="${labelWidth}" y="${y + 6}" width="${(x(r.rps) - labelWidth).toFixed(1)}" height="${rowHeight - 12}" fill="${COLORS[r.group]}"/>`,
    );
    const note =
      r.group === 'ceiling' ? 'reference' : `${formatRatio(r.ratio)} of ${formatCount(r.ceilingRPS)}/s`;
    parts.push(
      `<text x="${labelWidth + barWidth + 12}" y="${y + 16}">${formatCount(r.rps)}/s · ${note}</text>`,
    );
  }
  if (Number.isFinite(report.bareRPS)) {
    const bx = x(report.bareRPS).toFixed(1);
    parts.push(
      `<line x1="${bx}" y1="${top - 4}" x2="${bx}" y2="${bottom}" stroke="#333" stroke-width="1" stroke-dasharray="4 3"/>`,
      `<text x="${bx}" y="${bottom + 32}" text-anchor="middle">bare Fastify ${formatCount(report.bareRPS)}/s</text>`,
    );
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function isPass(t: TargetRow): boolean {
  return t.lowerIsBetter === true ? t.measured < t.target : t.measured >= t.target;
}

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** The whole of docs/benchmarks.md. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  const latency = new Map(report.latency1.map((r) => [r.id, r]));
  const added = (id: string): number => {
    const r = latency.get(id);
    return r === undefined ? NaN : r.p50 - r.ceilingP50;
  };
  const sessionId = latency.has('session-redis') ? 'session-redis' : 'session-memory';
  const sessionCost = added(sessionId);
  const cachedCost = added('session-redis-cached');
  const jwtCost = added('jwt-reused-EdDSA');
  const jwtNewCost = added('jwt-new-EdDSA');
  const row = (id: string): HTTPRow | undefined => report.http.find((r) => r.id === id);
  const latchkeyOpen = row('session-memory')?.ceilingRPS ?? NaN;
  out.push(
    '# Benchmarks',
    '',
    `Generated by \`npm run bench${report.quick ? ' -- --quick' : ''}\` on ${report.date.slice(0, 10)} in ${report.durationSeconds.toFixed(0)} s. ` +
      'Every figure below comes from that one run on this machine; rerun it on yours before you rely on a number. ' +
      'Compare the rows with each other (ratios), not with figures from another machine.',
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores (shared, noisy: a cloud VM that other jobs use at the same time)`,
    `- Memory: ${m.memoryGiB.toFixed(1)} GiB; OS: ${m.os}; Node.js ${m.node}`,
    `- Load generator: ${report.tool} (one thread), on the same machine, over 127.0.0.1`,
    '',
    '## In short',
    '',
    `- **The auth step at one connection** (p50 of the protected route minus p50 of a no-auth route of the same server, measured just before): ` +
      `a cookie session read from ${sessionId === 'session-redis' ? 'Redis' : 'memory'} adds **${formatMs(sessionCost)} ms**` +
      (Number.isFinite(cachedCost) ? ` (**${formatMs(cachedCost)} ms** with the near session cache)` : '') +
      `; a JWT (EdDSA) adds **${formatMs(jwtCost)} ms** when the same token comes back (cache hit) and **${formatMs(jwtNewCost)} ms** when every token is new. ` +
      (sessionCost < 1 && jwtCost < 1
        ? 'The often-quoted "JWT took the auth step from 15 ms to 3 ms" does not describe a session lookup done well: here both are under a millisecond.'
        : 'Compare this with the often-quoted "JWT took the auth step from 15 ms to 3 ms": the figures above are what this machine measured.'),
    `- **Ceiling** means, for every setup, **the same server process** answering a route that does no authentication: same framework, same plugins and hooks (for Latchkey: its logger at the default \`LOG_LEVEL=info\`, CORS \`Vary\`, origin check, security headers and \`no-store\`), the same request headers (cookie or token, and the same token rotation), and a body of the same shape and size as the protected route. ` +
      "So the ratio to the ceiling is the share of the server's capacity that authentication leaves, and nothing else. " +
      `A bare Fastify route in its own process (the reference row) does ${formatCount(report.bareRPS)} req/s` +
      (Number.isFinite(latchkeyOpen)
        ? `; the Latchkey server's own no-auth route \`GET /bench/open\` does ${formatCount(latchkeyOpen)} req/s (${formatRatio(latchkeyOpen / report.bareRPS)} of bare Fastify): that difference is the cost of its request pipeline, paid by every route, not of authentication.`
        : '.') +
      ' The table shows both ratios; the targets use the same-server one.',
    '',
    '![Protected route req/s against each server’s own no-auth ceiling](benchmarks.svg)',
    '',
    '## Targets',
    '',
    table(
      ['Target', 'Measured', 'Goal', 'Result'],
      report.targets.map((t) => [
        t.name,
        t.lowerIsBetter === true ? `${formatMs(t.measured)} ${t.unit ?? 'ms'}` : formatRatio(t.measured),
        t.lowerIsBetter === true ? `< ${t.target} ${t.unit ?? 'ms'}` : `>= ${t.target}x`,
        isPass(t) ? 'PASS' : '**MISS**',
      ]),
    ),
    '',
    '"Same-server ceiling" targets are the median over rounds of req/s over the req/s of that server\'s no-auth route, loaded right next to it. ' +
      'The **bound** for a new token each request is the req/s the same server would do if each request cost exactly its no-auth route plus one raw signature check: ' +
      'the server is saturated under this load, so one no-auth request costs it 1/ceiling seconds, and one raw verify costs 1/(raw verifies per second) from the in-process table. ' +
      'Bound = 1 / (1/ceiling + 1/raw), computed per round from the adjacent same-server ceiling load. It is a bound because it leaves out everything but the signature: parsing, claim checks, the adapter. ' +
      "The **express-session** targets are plain throughput: Latchkey's Redis cookie-session req/s over express-session + connect-redis req/s, both measured in the same round, then the median over rounds (each against its own ceiling is in the table below). " +
      '`LATCHKEY_SESSION_CACHE` defaults to `auto`: the near session cache is on (entries served for at most 60 s, 10 000 sessions) for every store but MySQL/MariaDB alone: the memory store, SQLite and PGlite, which only this process writes, and Redis, Postgres and MySQL + Redis, whose revocation channel (Redis pub/sub, Postgres NOTIFY) drops an entry on every node; MariaDB alone has no channel and runs without it. Rows marked "the default" run that configuration (nothing set); rows marked "near cache off" are a second server with `LATCHKEY_SESSION_CACHE=0` alone, to show the store\'s own cost. ' +
      'The revocation target is taken from the logout response to the first refusal (propagation); the figure from the moment the logout is sent, which adds the logout request and its store write, is below.',
    '',
    '## Protected route over HTTP',
    '',
    `${report.connections} connections, ${report.seconds} s per load, median of ${report.rounds} interleaved round(s). ` +
      `Each setup's load is paired with a ${report.ceilingSeconds}-s load of its **ceiling**, run right before it in odd rounds and right after it in even ones, both after a discarded 1-s warm-up of that server (a server that sat idle while the others were loaded is slower for its first second): the same requests to a no-auth route of the same server process (\`GET /open\` on the bench servers, registered after the auth plugin; \`GET /bench/open\` on the Latchkey server, registered last on the instance \`latchkey serve\` builds). ` +
      'Bench servers answer `{"user": id}` on both routes; Latchkey answers its user and session document on `GET /v1/me`, and a constant document of the same shape and size on `GET /bench/open`. ' +
      "**vs ceiling** is the median over rounds of req/s over that adjacent ceiling's; **vs bare** is the median over rounds of req/s over the bare Fastify reference's req/s in the same round (not adjacent, so noisier). " +
      "**CPU µs/req** is the server process's CPU time (user + system, all its threads, from `/proc/<pid>/stat`) over the requests it served during the loads, median over rounds; **ceiling CPU** is the same on its ceiling route, so the difference is what authentication costs the server per request. " +
      'On this shared machine it is far steadier than req/s. It leaves out what another process does for the request (Redis, Postgres).',
    '',
    table(
      [
        'Setup',
        'req/s',
        'p50 ms',
        'p99 ms',
        'ceiling req/s',
        'vs ceiling',
        'vs bare',
        'CPU µs/req',
        'ceiling CPU µs/req',
        'errors',
      ],
      report.http.map((r) => [
        r.label,
        formatCount(r.rps),
        formatMs(r.p50),
        formatMs(r.p99),
        r.group === 'ceiling' ? '—' : formatCount(r.ceilingRPS),
        r.group === 'ceiling' ? '—' : formatRatio(r.ratio),
        formatRatio(r.bareRatio),
        formatMicros(r.cpuPerRequest),
        r.group === 'ceiling' ? '—' : formatMicros(r.ceilingCpuPerRequest),
        r.ceilingErrors > 0 ? `${r.errors} (ceiling: ${r.ceilingErrors})` : String(r.errors),
      ]),
    ),
    '',
    `"New token each request" rotates through a pool of ${formatCount(report.pool)} tokens signed in advance (more than the verifier's 10 000-entry cache, so every request misses it); its ceiling load rotates the same pool. ` +
      'The HS256 rows use the core verifier (`createAccessTokenVerifier`) in a Fastify route: the resource-service SDK takes published public keys only, and an HS256 secret is never published. ' +
      "The hybrid row is a resource service on `latchkey/verify` with the auth server's JWKS and its SSE revocation feed, reading the access cookie of a hybrid login. " +
      'The HS256 tokens of @fastify/jwt and hono/jwt are verified without a cache (their defaults). ' +
      "express-session's middleware is mounted on its login and protected routes only, so its ceiling loads no session.",
    '',
    '### One connection (latency of a single client)',
    '',
    table(
      ['Setup', 'p50 ms', 'same server, no auth, p50 ms', 'added by auth, ms'],
      report.latency1.map((r) => [
        r.label,
        formatMs(r.p50),
        r.id === 'no-auth' ? '—' : formatMs(r.ceilingP50),
        r.id === 'no-auth' ? '—' : formatMs(r.p50 - r.ceilingP50),
      ]),
    ),
    '',
    '## Verification in process',
    '',
    `Median ops/s over ${report.verifyRounds} interleaved round(s) of ${report.verifyMs} ms per contender, one token per algorithm (n/a: the library has no such algorithm).`,
    '',
    table(
      [
        'Algorithm',
        'raw node:crypto',
        'Latchkey cold',
        'Latchkey cached',
        'jose',
        'fast-jwt',
        'jsonwebtoken',
      ],
      Object.entries(report.verify).map(([alg, r]) => [
        alg,
        formatCount(r.raw),
        formatCount(r.cold),
        formatCount(r.cached),
        formatCount(r.jose),
        formatCount(r['fast-jwt']),
        formatCount(r.jsonwebtoken),
      ]),
    ),
    '',
    'Raw is `crypto.verify` on a pre-split token and a pre-parsed key: no parsing, no claim checks, the floor. Cold is our verifier with its cache off; cached is a hit in its cache of verified tokens (a map lookup, key identity and time checks).',
    '',
    '## Login, refresh, revocation',
    '',
  );
  if (report.login !== null && report.refresh !== null) {
    out.push(
      table(
        ['Operation (memory store)', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
        [
          [
            '`POST /v1/login` (argon2id), 4 connections',
            formatCount(report.login.rps),
            formatMs(report.login.p50),
            formatMs(report.login.p99),
            String(report.login.errors),
          ],
          [
            `\`POST /v1/refresh\` (rotation), ${report.connections} chains`,
            formatCount(report.refresh.rps),
            formatMs(report.refresh.p50),
            formatMs(report.refresh.p99),
            String(report.refresh.errors),
          ],
        ],
      ),
      '',
      'Login is bound by argon2id by design: that is what makes a stolen password database slow to attack. Each refresh chain sends the token the previous response returned, so every request is a real rotation.',
      '',
    );
  }
  if (report.revocation !== null) {
    const r = report.revocation;
    out.push(
      `**Revocation lag**: ${r.samples} samples, p50 ${formatMs(r.p50)} ms, p99 ${formatMs(r.p99)} ms, max ${formatMs(r.max)} ms. ` +
        'Measured from just before `POST /v1/logout` is sent (token mode, SQLite store: the default) until a resource service in another process — `latchkey/verify` fed by the SSE revocation feed — first refuses the same access token; the harness polls it back to back. ' +
        `With ${r.samples} samples, the p99 is the worst sample or close to it. That lag includes the logout request itself (a write to the SQLite store); ` +
        `counted from the moment the logout response arrived instead, the lag is p50 ${formatMs(r.afterResponseP50)} ms, p99 ${formatMs(r.afterResponseP99)} ms: the propagation through the feed alone.`,
      '',
    );
  }
  if (report.revocationExternal !== null) {
    out.push(
      'Output of `bench/revocation-lag.ts --count 30` (a verifier in the same process as an in-process server on the memory store, per transport; delivery is from the server recording the revocation to the verifier refusing the token; then the cost of one lookup in the revocation list at 10, 1 000 and 100 000 records):',
      '',
      '```',
      report.revocationExternal.trim(),
      '```',
      '',
    );
  }
  if (report.memory !== null) {
    out.push(
      '## Server memory',
      '',
      'Resident set of each Latchkey server process (`VmRSS` in `/proc/<pid>/status`) after the loads, and its peak since the process started (`VmHWM`), which includes creating its data directory at the first start. The bench servers run through tsx (`node --import tsx`), whose loader thread and transform caches add their own share (~40 MiB); the last row is `node dist/cli/main.js serve` itself, what `npm start` runs (built first by `npm run bench`), loaded like the others on its no-auth route and a cookie session: the figure of the memory target.',
      '',
      table(
        ['Server', 'resident MiB', 'peak MiB'],
        report.memory.map((m) => [m.label, m.rssMiB.toFixed(0), m.peakMiB.toFixed(0)]),
      ),
      '',
    );
  }
  if (report.million !== null) out.push(...renderMillion(report.million, report.connections));
  out.push('## Storage per session', '');
  if (report.storage !== null && (report.storage.redis !== null || report.storage.sql !== null)) {
    out.push(
      'From `bench/store-footprint.ts redis` and `bench/store-footprint-sql.ts`, run by the harness at 20 000 sessions (each with one refresh token) and 2 000 reads:',
      '',
      '```',
      [report.storage.redis, report.storage.sql]
        .filter((s): s is string => s !== null)
        .map((s) => s.trim())
        .join('\n\n'),
      '```',
      '',
    );
  } else {
    out.push(
      'Not measured in this run (quick mode, or no Redis/Postgres): see `bench/store-footprint.ts` and `bench/store-footprint-sql.ts`.',
      '',
    );
  }
  out.push(
    '## Method',
    '',
    '- Every Latchkey server runs in its default configuration, `LOG_LEVEL=info` included (security events logged, no line per request), its log going to a pipe the harness reads.',
    '- Each server runs in its own process (`node --import tsx bench/servers/<name>.ts`); the Latchkey servers run `bench/servers/latchkey-serve.ts`, which starts the server exactly as `latchkey serve` does (same environment, store selection, core, revocation publisher, HTTP server and background tasks) and adds the one no-auth route `GET /bench/open`. The load generator is another process. Nothing else of the harness runs while a load runs.',
    `- Each load is bounded in time (${report.seconds} s at ${report.connections} connections, ${report.ceilingSeconds} s for a ceiling; ${report.latencySeconds} s at one connection). A 1-s warm-up of every route (protected and ceiling) comes first and is discarded.`,
    "- Rounds are interleaved and the order of the setups rotates from round to round, so drift on this shared machine hits all setups alike. Figures are medians over rounds. Ratios are medians of per-round ratios against a load of the same server's no-auth route run right next to each setup (the capacity of this machine drifts within a round, so a ceiling measured a minute earlier is not a fair baseline). The bare Fastify reference row is the median of its own full-length loads, and the ratio to it is taken per round.",
    "- Server CPU per request: the server process's utime + stime from `/proc/<pid>/stat` (clock ticks, usually 10 ms) read before and after each load, divided by the requests the load generator counted; on Linux only.",
    '- Latchkey servers: `LATCHKEY_STORE=memory`; SQLite (the default: nothing configured) and PGlite (`LATCHKEY_STORE=pglite`) in temporary data directories; Postgres in a database created for the run and dropped after; Redis (`REDIS_URL` alone: users in Redis too) under a key prefix of its own, deleted after; the "near cache off" servers set `LATCHKEY_SESSION_CACHE=0` and nothing else (and their own data directory or prefix; the Postgres one shares the database of the default one). The Redis Cluster rows run `latchkey serve` with `REDIS_URL=redis+cluster://...` on a cluster of three masters started for the run (free loopback ports, no persistence, stopped after). express-session uses its own prefix too. Nothing is flushed. The store variables of the calling environment are cleared, so each server gets exactly the store its scenario names.',
    '- The machine has 2 cores shared by the server, the load generator and other tenants, so absolute req/s are low and noisy; ratios and CPU per request hold better than absolute numbers.',
    '',
  );
  const missed = report.targets.filter((t) => !isPass(t));
  out.push(
    '## What costs, what remains',
    '',
    'What the profiles showed, what was fixed and what is still open, in words: [performance notes](performance-notes.md).',
    '',
  );
  const authCPU = report.http
    .filter((r) => r.group !== 'ceiling' && Number.isFinite(r.cpuPerRequest - r.ceilingCpuPerRequest))
    .map((r) => `${r.label}: ${formatMicros(r.cpuPerRequest - r.ceilingCpuPerRequest)} µs`);
  if (authCPU.length > 0)
    out.push(
      `Server CPU per request that authentication adds (CPU µs/req minus its ceiling's): ${authCPU.join('; ')}.`,
      '',
    );
  if (missed.length === 0) {
    out.push('Every target was met in this run.', '');
  } else {
    out.push(
      `Missed in this run: ${missed.map((t) => t.name).join('; ')}.`,
      '',
      '- A cookie session costs one store round trip per request (the session and its user in one read: a Lua script on Redis, a join on SQL; a sliding-expiry write at most once a minute, not waited for), unless the near session cache answers it. The floor row is what one Redis GET and a JSON.parse cost a bare Fastify route on this machine. With Redis that is a network round trip from Node, each with its client-side encode/decode; on 2 cores the Redis server itself competes with the Latchkey process and the load generator for the CPU, which the no-auth route never pays (and which the CPU column, counting the Latchkey process only, leaves out).',
      '- Everything the Latchkey server does on every route (request logger, hooks, headers, the JSON body) is in the ceiling too: what is left between a row and its ceiling is the authentication itself.',
      '- A new token each request pays one signature check: the in-process table shows the floor. Two targets say how close the HTTP route gets to it: the computed bound (the same-server ceiling plus the in-process check) and the measured one (the "bare node:crypto signature check" row: the same tokens under the same load, on a route that checks the signature and parses the payload, nothing else). The measured bound is the fairer one on a small machine: rotating long tokens costs the load generator and the request parser CPU that the computed bound leaves out.',
      '',
    );
  }
  for (const p of report.profiles) {
    out.push(
      `### CPU profile: ${p.scenario}`,
      '',
      `\`node --cpu-prof\` on \`bench/servers/latchkey-serve.ts\` for its whole life: start (tsx compiling the TypeScript: \`wrapSafe\`, \`compileSourceTextModule\`, \`waitForWorker\`, \`makeSyncRequest\`, \`internalModuleStat\`), then one ${report.seconds * 3}-s load at ${report.connections} connections (${formatCount(p.requests)} requests, ${formatMicros(p.cpuMicrosPerRequest)} µs of server CPU per request with the profiler on); self time, idle excluded. The start-up entries are not a per-request cost.`,
      '',
      table(
        ['Kind of code', 'self time'],
        p.groups.map((x) => [x.name, pct(x.share)]),
      ),
      '',
      table(
        ['Where', 'self time'],
        p.places.map((x) => [x.name.replace(/\|/g, '\\|'), pct(x.share)]),
      ),
      '',
      table(
        ['Function', 'self time'],
        p.functions.map((x) => [x.name.replace(/\|/g, '\\|'), pct(x.share)]),
      ),
      '',
    );
  }
  if (report.dropped.length > 0)
    out.push('## Not measured in this run', '', ...report.dropped.map((d) => `- ${d}`), '');
  return out.join('\n');
}

/** The section of the million sessions in Redis. */
function renderMillion(m: MillionReport, connections: number): string[] {
  return [
    `## ${formatCount(m.sessions)} sessions in Redis`,
    '',
    `A redis-server of the run's own (\`--save '' --appendonly no\`, stopped after), two \`latchkey serve\` on it under one key prefix: the default configuration and \`LATCHKEY_SESSION_CACHE=0\`. ` +
      `${formatCount(m.sessions)} cookie sessions of ${formatCount(m.users)} users were written through the Redis store's own \`createSession\` (${formatCount(m.batch)} at a time over one auto-pipelined connection) in **${m.seedSeconds.toFixed(0)} s**; ` +
      `Redis \`used_memory\` grew by **${m.bytesPerSession.toFixed(0)} bytes per session** (the session record, its entry in its user's index and in the expiry sweep index; no refresh token: a cookie session has none), ${m.usedMemoryMiB.toFixed(0)} MiB in all. ` +
      `Then \`GET /v1/me\` at ${connections} connections, each request with the cookie of a session picked at random among all of them (not one hot session), interleaved rounds, medians. ` +
      'The near cache keeps 10 000 sessions, so at this size nearly every request misses it: the default row shows the store at scale, not a cache hit. ' +
      "Every session was last seen two minutes before the loads, so the first request of each slides its expiry (a background write the response does not wait for), as a returning user's does. " +
      'The floor row is a bare Fastify route on the same Redis, loaded with the same cookies, that GETs the session each names and parses it, nothing else: the latency this machine gives one read a request, whoever serves it. ' +
      'Those loads are closed (each connection sends its next request when the last one is answered), so the server is saturated and the p99 measures its queue and the scheduling of two cores shared by the load generator, Node and Redis. The last column loads each random row once more at half its req/s, at a fixed rate (an open-loop load by autocannon, for as long as all the rounds together): the latency of a busy server that keeps up.',
    '',
    table(
      ['Setup', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors', 'half load: req/s, p50 ms, p99 ms'],
      m.rows.map((r) => [
        r.floor ? r.label : `Latchkey cookie session, ${r.label}`,
        formatCount(r.rps),
        formatMs(r.p50),
        formatMs(r.p99),
        formatMicros(r.cpuPerRequest),
        String(r.errors),
        r.halfLoad === null
          ? '—'
          : `${formatCount(r.halfLoad.rate)}, ${formatMs(r.halfLoad.p50)}, ${formatMs(r.halfLoad.p99)}${r.halfLoad.errors > 0 ? ` (${r.halfLoad.errors} errors)` : ''}`,
      ]),
    ),
    '',
  ];
}
