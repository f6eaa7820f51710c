/**
 * One HTTP load: wrk when it is installed (parsed from its `--latency` report), autocannon
 * otherwise. Requests can rotate through a pool of header values (a new token every request) or
 * chain the refresh token of each response into the next request.
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { trackChild } from './processes.js';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Readonly<Record<string, string>>;
  body?: string;
  /**
   * One request per value, in turn: the value of header `rotate.header` (e.g. a pool of tokens).
   * With `random`, each request picks a value at random instead (e.g. one of a million session
   * cookies: no hot entry); wrk then reads the values from a file, one a line.
   */
  rotate?: { header: string; values: readonly string[]; random?: boolean };
  /** POST /v1/refresh chains: each response's `refresh_token` is sent by a later request. */
  refreshChain?: { tokens: readonly string[] };
  /**
   * A fixed rate (requests per second over all connections) instead of as fast as the server
   * answers: an open-loop load, for the latency at a given load rather than at saturation.
   * Always run by autocannon (wrk has no rate).
   */
  rate?: number;
}

export interface LoadResult {
  rps: number;
  /** Requests completed during the load (wrk's "N requests in"; autocannon's total). */
  requests: number;
  p50: number;
  p99: number;
  /** Non-2xx responses and socket errors. */
  errors: number;
  tool: 'wrk' | 'autocannon';
}

let wrkAvailable: boolean | undefined;

/** True when `wrk` runs on this machine. */
export function hasWrk(): boolean {
  wrkAvailable ??= spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  return wrkAvailable;
}

const luaString = (s: string): string => JSON.stringify(s);

function wrkScript(options: LoadOptions, valuesFile: string | null): string | null {
  const lines: string[] = [];
  if (options.method !== undefined) lines.push(`wrk.method = ${luaString(options.method)}`);
  if (options.body !== undefined) lines.push(`wrk.body = ${luaString(options.body)}`);
  if (options.rotate?.random === true && valuesFile !== null) {
    // Read from a file: a table constructor of a million string constants is beyond LuaJIT.
    lines.push(
      `local values = {}`,
      `for line in io.lines(${luaString(valuesFile)}) do values[#values + 1] = line end`,
      `math.randomseed(os.time())`,
      `request = function()`,
      `  wrk.headers[${luaString(options.rotate.header)}] = values[math.random(#values)]`,
      `  return wrk.format()`,
      `end`,
    );
  } else if (options.rotate !== undefined) {
    lines.push(`local values = {`, ...options.rotate.values.map((v) => `${luaString(v)},`), `}`);
    lines.push(
      `local i = 0`,
      `request = function()`,
      `  i = i % #values + 1`,
      `  wrk.headers[${luaString(options.rotate.header)}] = values[i]`,
      `  return wrk.format()`,
      `end`,
    );
  }
  if (options.refreshChain !== undefined) {
    lines.push(`wrk.method = "POST"`, `wrk.headers["Content-Type"] = "application/json"`);
    lines.push(`local queue = {`, ...options.refreshChain.tokens.map((v) => `${luaString(v)},`), `}`);
    lines.push(
      `request = function()`,
      `  local token = table.remove(queue, 1) or "exhausted"`,
      `  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')`,
      `end`,
      `response = function(status, headers, body)`,
      `  local token = string.match(body, '"refresh_token":"([^"]+)"')`,
      `  if token then table.insert(queue, token) end`,
      `end`,
    );
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : null;
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function parseDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) return Number.NaN;
  return Number(match[1]) * (UNITS[match[2]] ?? Number.NaN);
}

/** Parses the report of `wrk --latency`. */
export function parseWrkOutput(output: string): Omit<LoadResult, 'tool'> {
  const rps = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1] ?? Number.NaN);
  const requests = Number(/^\s*(\d+) requests in /m.exec(output)?.[1] ?? Number.NaN);
  const p50 = parseDuration(/^\s+50%\s+(\S+)/m.exec(output)?.[1] ?? '');
  const p99 = parseDuration(/^\s+99%\s+(\S+)/m.exec(output)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return { rps, requests, p50, p99, errors: non2xx + socketErrors };
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${Math.max(1, Math.round(options.seconds))}s`,
    '--latency',
    '--timeout',
    '5s',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-wrk-'));
  let valuesFile: string | null = null;
  if (options.rotate?.random === true) {
    valuesFile = join(dir, 'values.txt');
    await writeFile(valuesFile, options.rotate.values.join('\n') + '\n');
  }
  const script = wrkScript(options, valuesFile);
  if (script !== null) {
    const file = join(dir, 'script.lua');
    await writeFile(file, script);
    args.push('-s', file);
  }
  args.push(options.url);
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      trackChild(child);
      let text = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 15) * 1000);
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(text);
        else reject(new Error(`wrk exited with ${code}: ${text}`));
      });
    });
    return { ...parseWrkOutput(output), tool: 'wrk' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const rotate = options.rotate;
  const queue = [...(options.refreshChain?.tokens ?? [])];
  let i = 0;
  const request: autocannon.Request = {
    method: options.refreshChain !== undefined ? 'POST' : (options.method ?? 'GET'),
    ...(options.body !== undefined ? { body: options.body } : {}),
  };
  if (rotate !== undefined) {
    const count = rotate.values.length;
    request.setupRequest = (req) => {
      i = rotate.random === true ? Math.floor(Math.random() * count) : (i + 1) % count;
      return { ...req, headers: { ...req.headers, [rotate.header]: rotate.values[i] ?? '' } };
    };
  }
  if (options.refreshChain !== undefined) {
    request.setupRequest = (req) => ({
      ...req,
      headers: { ...req.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: queue.shift() ?? 'exhausted' }),
    });
    request.onResponse = (_status, body) => {
      const token = /"refresh_token":"([^"]+)"/.exec(body)?.[1];
      if (token !== undefined) queue.push(token);
    };
  }
  // autocannon's own percentiles are whole milliseconds (its histogram's unit): keep every 2xx
  // response time (a float, ms) to give p50 and p99 to the microsecond, as wrk does.
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
        headers: { ...options.headers },
        requests: [request],
      },
      (error: unknown, done) =>
        error === null || error === undefined
          ? resolve(done)
          : reject(error instanceof Error ? error : new Error('autocannon failed')),
    );
    instance.on('response', (_client, status, _bytes, time) => {
      if (status >= 200 && status < 300) times.push(time);
    });
  });
  times.sort((a, b) => a - b);
  const exact = (p: number): number =>
    times.length === 0
      ? Number.NaN
      : (times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? Number.NaN);
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    p50: times.length === 0 ? result.latency.p50 : exact(50),
    p99: times.length === 0 ? result.latency.p99 : exact(99),
    errors: result.non2xx + result.errors,
    tool: 'autocannon',
  };
}

/** Runs one load with wrk, or autocannon when wrk is missing (or `forceAutocannon`). */
export async function runLoad(options: LoadOptions, forceAutocannon = false): Promise<LoadResult> {
  return hasWrk() && !forceAutocannon && options.rate === undefined
    ? runWrk(options)
    : runAutocannon(options);
}
