/**
 * Holding the server to its OpenAPI document: a recorder of every response a test app sends
 * (method, route pattern, status, media type, body), and a checker that validates each against
 * the document's schema for that operation, status and media type (ajv, JSON Schema 2020-12).
 */

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

export interface RecordedResponse {
  method: string;
  /** The route pattern (`/v1/sessions/:id`). */
  route: string;
  status: number;
  mediaType: string;
  body: string;
}

/** Records every response a route answers (not the not-found handler's). Call before `ready()`. */
export function recordResponses(app: FastifyInstance): RecordedResponse[] {
  const responses: RecordedResponse[] = [];
  app.addHook('onSend', (request, reply, payload, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined) {
      const type = reply.getHeader('content-type');
      responses.push({
        method: request.method,
        route,
        status: reply.statusCode,
        mediaType: (typeof type === 'string' ? type : '').split(';')[0]?.trim() ?? '',
        body:
          typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '',
      });
    }
    done(null, payload);
  });
  return responses;
}

/** `/v1/sessions/:id` as OpenAPI writes it: `/v1/sessions/{id}`. */
export function openAPIPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export interface OpenAPIDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** Rewrites the document's local `$ref`s so that a schema compiled alone resolves them. */
function anchored(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(anchored);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? `openapi.json${value}`
        : anchored(value),
    ]),
  );
}

export interface Conformance {
  operation(method: string, route: string): Operation | undefined;
  /** What is wrong with a response, in words; empty when it matches the document. */
  check(response: RecordedResponse): string[];
}

export function createConformance(document: OpenAPIDocument): Conformance {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  (addFormatsModule as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: document.components });
  const compiled = new Map<string, ValidateFunction>();

  const operation = (method: string, route: string): Operation | undefined =>
    document.paths[openAPIPath(route)]?.[method.toLowerCase()];

  return {
    operation,
    check(response) {
      const where = `${response.method} ${response.route} → ${response.status}`;
      const op = operation(response.method, response.route);
      if (op === undefined) return [`${where}: the operation is not documented`];
      const key = [String(response.status), `${String(response.status)[0]}XX`, 'default'].find(
        (candidate) => candidate in op.responses,
      );
      if (key === undefined) return [`${where}: the status is not documented`];
      const content = op.responses[key]?.content;
      if (content === undefined) {
        return response.body === ''
          ? []
          : [`${where}: documented empty, answered ${response.body.slice(0, 80)}`];
      }
      const schema = content[response.mediaType]?.schema;
      if (schema === undefined)
        return [`${where}: the media type ${response.mediaType || '(none)'} is not documented`];
      const cacheKey = `${response.method} ${response.route} ${key} ${response.mediaType}`;
      let validate = compiled.get(cacheKey);
      if (validate === undefined) {
        validate = ajv.compile(anchored(schema) as object);
        compiled.set(cacheKey, validate);
      }
      let body: unknown = response.body;
      if (/json$/.test(response.mediaType)) {
        try {
          body = JSON.parse(response.body);
        } catch {
          return [`${where}: the body is not JSON`];
        }
      }
      if (validate(body)) return [];
      return [`${where}: ${ajv.errorsText(validate.errors)} in ${response.body.slice(0, 300)}`];
    },
  };
}
