/**
 * Parsing a JSON request body strictly: the value that is validated must be the value that is
 * used, with no doubt which. `JSON.parse` keeps the last of two members with one name; some
 * other parser in the path (a proxy, a WAF, a logging pipeline) may keep the first. So a body
 * with a duplicate member is refused, and so are NUL characters, prototype keys and deep nesting.
 */

import { LatchkeyError } from '../errors.js';

/** Deeper than any body of this API; deeper bodies cost work and hide nothing useful. */
const MAX_DEPTH = 20;

/**
 * Parses a request body; throws `invalid_json` when it is not JSON and `bad_request` when it is
 * JSON this API refuses.
 *
 * @example
 * parseJSONBody('{"email":"a@example.com","email":"b@example.com"}'); // throws bad_request
 */
export function parseJSONBody(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LatchkeyError('invalid_json');
  }
  const problem =
    hasForbiddenContent(parsed) ?? (hasDuplicateMember(text) ? 'a member appears twice in one object' : null);
  if (problem !== null) throw new LatchkeyError('bad_request', `The body is refused: ${problem}`);
  return parsed;
}

function hasForbiddenContent(value: unknown, depth = 0): string | null {
  if (depth > MAX_DEPTH) return 'the body is nested too deeply';
  if (typeof value === 'string') return value.includes('\u0000') ? 'NUL characters are not allowed' : null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = hasForbiddenContent(item, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype')
        return `the key "${key}" is not allowed`;
      const problem = hasForbiddenContent(item, depth + 1);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/**
 * True when one object of a JSON text (that `JSON.parse` accepted) has two members with the same
 * name, compared after decoding escapes (`"a"` and `"\u0061"` are one name). One pass: objects
 * on a stack, each with the names seen so far.
 */
export function hasDuplicateMember(text: string): boolean {
  const objects: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      const names = objects[objects.length - 1];
      if (expectName && names !== undefined && names !== null) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return true;
        names.add(name);
      }
      expectName = false;
      i = end;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = objects[objects.length - 1] instanceof Set;
    }
  }
  return false;
}
