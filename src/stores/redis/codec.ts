/**
 * The decoding primitives that every record kind of the Redis store shares: fields of JSON
 * objects, decimal strings written by the store, and script replies. A value that does not have
 * the expected shape is a store bug or a foreign write: it rejects with `internal_error`, naming
 * the record kind and never the value (it may hold a hash).
 */

import { LatchkeyError } from '../../errors.js';

/**
 * The error for a stored value (or a script reply) that does not have the expected shape.
 *
 * @example
 * if (typeof value !== 'string') throw malformed('session');
 */
export function malformed(what: string): LatchkeyError {
  return new LatchkeyError('internal_error', `A ${what} record in Redis is malformed`);
}

/** A parsed JSON object, before its fields are checked. */
export type JsonObject = Record<string, unknown>;

/** Parses JSON text that must be an object. */
export function parseObject(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(what);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(what);
  return value as JsonObject;
}

/** Parses JSON text that must be an array of `length` items. */
export function parseTuple(text: string, length: number, what: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(what);
  }
  if (!Array.isArray(value) || value.length !== length) throw malformed(what);
  return value as unknown[];
}

/** A string field of a JSON object. */
export function readString(object: JsonObject, field: string, what: string): string {
  const value = object[field];
  if (typeof value !== 'string') throw malformed(what);
  return value;
}

/** A finite number field of a JSON object. */
export function readNumber(object: JsonObject, field: string, what: string): number {
  const value = object[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(what);
  return value;
}

/** A finite number field of a JSON object, or null. */
export function readNullableNumber(object: JsonObject, field: string, what: string): number | null {
  const value = object[field];
  if (value === null) return null;
  return readNumber(object, field, what);
}

/** A string-array field of a JSON object (copied). */
export function readStrings(object: JsonObject, field: string, what: string): string[] {
  const value = object[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw malformed(what);
  return [...value];
}

/**
 * Parses a decimal string written by this store; `undefined` and `''` are null.
 *
 * @example
 * numberOrNull(hash.retiredAt, 'signing key'); // null when the field is absent
 */
export function numberOrNull(text: string | undefined, what: string): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw malformed(what);
  return value;
}

/** Parses a decimal string written by this store, which must be there. */
export function requiredNumber(text: string | undefined, what: string): number {
  const value = numberOrNull(text, what);
  if (value === null) throw malformed(what);
  return value;
}

/** A script reply that must be a number (an integer reply, or a decimal string). */
export function replyNumber(reply: unknown, what: string): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(what);
  return value;
}

/** A script reply that must be an array. */
export function replyArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw malformed(what);
  return reply as unknown[];
}

/** A stored string that must be one of `allowed` (a mode, a status, an algorithm ...). */
export function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw malformed(what);
  return found;
}
