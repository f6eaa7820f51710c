/**
 * The view of `/docs/api`: the OpenAPI document (`/openapi.json`) as a page, grouped by tag, each
 * operation with its method, path, summary, credentials, parameters, request body and answers;
 * then the shared schemas. Server-rendered with no script: schemas open in `<details>`.
 */

import type { JSX } from 'preact';
import { Layout, type Site } from './layout.js';

interface Media {
  schema?: unknown;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: unknown;
}

export interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}

/** The part of an OpenAPI 3.1 document the page shows. */
export interface APIDocument {
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: {
    schemas?: Record<string, unknown>;
    securitySchemes?: Record<string, { description?: string }>;
  };
}

const REF_PREFIX = '#/components/schemas/';

/** Text with `code` spans, as the document's descriptions write them. */
function Prose({ text }: { text: string | undefined }): JSX.Element | null {
  if (text === undefined || text === '') return null;
  return (
    <p class="lk-api-prose">
      {text.split('`').map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}
    </p>
  );
}

/** A schema: a link to a shared one, or its JSON in a `<details>`. */
function Schema({ schema }: { schema: unknown }): JSX.Element {
  const ref = (schema as { $ref?: unknown } | null)?.$ref;
  if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
    const name = ref.slice(REF_PREFIX.length);
    return <a href={`#schema-${name}`}>{name}</a>;
  }
  return (
    <details class="lk-api-schema">
      <summary>Schema</summary>
      <pre>{JSON.stringify(schema, null, 2)}</pre>
    </details>
  );
}

function Content({ content }: { content: Record<string, Media> | undefined }): JSX.Element | null {
  if (content === undefined) return null;
  return (
    <ul class="lk-api-media">
      {Object.entries(content).map(([type, media]) => (
        <li key={type}>
          <code>{type}</code> {media.schema === undefined ? null : <Schema schema={media.schema} />}
        </li>
      ))}
    </ul>
  );
}

function credentials(security: Record<string, string[]>[] | undefined): string {
  if (security === undefined || security.length === 0) return 'None';
  return security
    .map((requirement) => {
      const names = Object.keys(requirement);
      return names.length === 0 ? 'none' : names.join(' + ');
    })
    .join(' | ');
}

function Parameters({ parameters }: { parameters: Parameter[] | undefined }): JSX.Element | null {
  if (parameters === undefined || parameters.length === 0) return null;
  return (
    <>
      <h4>Parameters</h4>
      <div class="lk-table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">In</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {parameters.map((parameter) => (
              <tr key={`${parameter.in}-${parameter.name}`}>
                <td>
                  <code>{parameter.name}</code>
                  {parameter.required === true ? ' (required)' : ''}
                </td>
                <td>{parameter.in}</td>
                <td>
                  <Prose text={parameter.description} />
                  {parameter.schema === undefined ? null : <Schema schema={parameter.schema} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function OperationView({ method, path, op }: { method: string; path: string; op: Operation }): JSX.Element {
  const id = `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
  return (
    <section class="lk-card lk-api-op" id={id} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        <span class={`lk-api-method lk-api-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
      </h3>
      <p class="lk-api-summary">{op.summary}</p>
      <Prose text={op.description} />
      <p class="lk-hint">Credentials: {credentials(op.security)}</p>
      <Parameters parameters={op.parameters} />
      {op.requestBody === undefined ? null : (
        <>
          <h4>Request body</h4>
          <Content content={op.requestBody.content} />
        </>
      )}
      <h4>Responses</h4>
      <dl class="lk-api-responses">
        {Object.entries(op.responses ?? {}).map(([status, response]) => (
          <div key={status}>
            <dt>
              <code>{status}</code>
            </dt>
            <dd>
              <Prose text={response.description} />
              <Content content={response.content} />
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function byTag(
  document: APIDocument,
): { name: string; description?: string; ops: [string, string, Operation][] }[] {
  const groups = (document.tags ?? []).map((tag) => ({ ...tag, ops: [] as [string, string, Operation][] }));
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const name = op.tags?.[0] ?? 'Other';
      let group = groups.find((candidate) => candidate.name === name);
      if (group === undefined) {
        group = { name, ops: [] };
        groups.push(group);
      }
      group.ops.push([method, path, op]);
    }
  }
  return groups.filter((group) => group.ops.length > 0);
}

export function APIDocsView({ site, document }: { site: Site; document: APIDocument }): JSX.Element {
  const groups = byTag(document);
  const anchor = (name: string): string => `tag-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;
  return (
    <Layout site={site} title="API reference">
      <div class="lk-api">
        <h1>
          {document.info.title} API <span class="lk-badge">{document.info.version}</span>
        </h1>
        <Prose text={document.info.description} />
        <p class="lk-lead">
          The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)
          {document.servers?.[0] === undefined ? '' : `; server ${document.servers[0].url}`}.
        </p>
        <nav aria-label="Groups" class="lk-card">
          <ul>
            {groups.map((group) => (
              <li key={group.name}>
                <a href={`#${anchor(group.name)}`}>{group.name}</a> ({group.ops.length})
              </li>
            ))}
            <li>
              <a href="#schemas">Schemas</a>
            </li>
          </ul>
        </nav>
        {groups.map((group) => (
          <section key={group.name} id={anchor(group.name)} aria-label={group.name}>
            <h2>{group.name}</h2>
            <Prose text={group.description} />
            {group.ops.map(([method, path, op]) => (
              <OperationView key={`${method} ${path}`} method={method} path={path} op={op} />
            ))}
          </section>
        ))}
        <section id="schemas" aria-label="Schemas">
          <h2>Schemas</h2>
          {Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => (
            <section class="lk-card lk-api-op" id={`schema-${name}`} key={name}>
              <h3>{name}</h3>
              <Prose text={(schema as { description?: string }).description} />
              <pre>{JSON.stringify(schema, null, 2)}</pre>
            </section>
          ))}
          <h2>Credentials</h2>
          <dl class="lk-api-responses">
            {Object.entries(document.components?.securitySchemes ?? {}).map(([name, scheme]) => (
              <div key={name}>
                <dt>
                  <code>{name}</code>
                </dt>
                <dd>
                  <Prose text={scheme.description} />
                </dd>
              </div>
            ))}
          </dl>
        </section>
      </div>
    </Layout>
  );
}
