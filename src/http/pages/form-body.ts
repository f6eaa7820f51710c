/**
 * The pages' form bodies (`application/x-www-form-urlencoded`), parsed as strictly as JSON bodies
 * are (`../json-body.ts`): the value that is checked must be the value that is used. A field sent
 * twice, an unknown field, a missing one, malformed percent-encoding, a NUL character or a value
 * over its length is refused with a 400 before any use case runs.
 */

import { LatchkeyError } from '../../errors.js';

/** The same limit as the JSON API's bodies. */
export const FORM_BODY_LIMIT = 16 * 1024;
/** No form of the pages has more fields than this. */
const MAX_FIELDS = 16;

/** A parsed form: field name to value, with no prototype (a field named `__proto__` is inert). */
export type FormBody = Readonly<Record<string, string>>;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new LatchkeyError('bad_request', 'The form body is not valid percent-encoding');
  }
}

/**
 * Parses an urlencoded body.
 *
 * @example
 * parseFormBody('email=a%40example.com&password=x'); // { email: 'a@example.com', password: 'x' }
 * parseFormBody('email=a&email=b'); // throws bad_request
 */
export function parseFormBody(text: string): FormBody {
  const form: Record<string, string> = Object.create(null) as Record<string, string>;
  if (text === '') return form;
  const pairs = text.split('&');
  if (pairs.length > MAX_FIELDS) throw new LatchkeyError('bad_request', 'The form has too many fields');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === '') throw new LatchkeyError('bad_request', 'The form has a field without a name');
    if (name.includes('\u0000') || value.includes('\u0000')) {
      throw new LatchkeyError('bad_request', 'NUL characters are not allowed');
    }
    if (Object.hasOwn(form, name)) {
      throw new LatchkeyError('bad_request', `The field "${name.slice(0, 40)}" appears twice`);
    }
    form[name] = value;
  }
  return form;
}

/** The fields a form accepts: name to its longest value, and whether it must be present. */
export type FormFields = Record<string, { maxLength: number; required?: boolean }>;

/**
 * Checks a parsed form against its fields and returns it typed; every required field present,
 * no other field, no value too long.
 *
 * @example
 * const form = readForm(request.body, { email: { maxLength: 320, required: true } });
 */
export function readForm<F extends FormFields>(
  body: unknown,
  fields: F,
): { [K in keyof F]: F[K]['required'] extends true ? string : string | undefined } {
  if (typeof body !== 'object' || body === null) {
    throw new LatchkeyError('bad_request', 'The form is missing');
  }
  const form = body as Record<string, unknown>;
  for (const name of Object.keys(form)) {
    if (!Object.hasOwn(fields, name)) {
      throw new LatchkeyError('bad_request', `The field "${name.slice(0, 40)}" is not part of this form`);
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    const value = form[name];
    if (value === undefined) {
      if (field.required === true) throw new LatchkeyError('bad_request', `The field "${name}" is missing`);
      continue;
    }
    if (typeof value !== 'string') throw new LatchkeyError('bad_request', `The field "${name}" is not text`);
    if (value.length > field.maxLength) {
      throw new LatchkeyError('bad_request', `The field "${name}" is too long`);
    }
  }
  return form as { [K in keyof F]: F[K]['required'] extends true ? string : string | undefined };
}
