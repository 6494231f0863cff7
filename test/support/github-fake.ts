// A local HTTP server standing in for api.github.com, the one peer the tests cannot reach. Every request is checked
// against GitHub's official OpenAPI description (@octokit/openapi): the method and path must name an operation,
// path and query parameters must match their schemas, and the body must match the operation's request schema.
// It is stricter than GitHub in two places, both to catch typos that GitHub would silently ignore: unknown query
// parameters and unknown top-level body properties are violations too. Requests that do not validate are
// answered 422 and recorded in `violations`; a test fails when that list is not empty. Responses are built by
// small handlers for the deployments API and are themselves validated against the response schemas.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
}

interface Operation {
  operationId: string;
  method: string;
  template: string;
  pattern: RegExp;
  pathNames: string[];
  pointer: string;
  parameters: Parameter[];
  body: { required: boolean; schema: JsonObject; pointer: string } | undefined;
  responses: Record<string, string | undefined>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, JsonObject>>;
  components: { parameters: Record<string, Parameter>; responses: JsonObject } & JsonObject;
}

/** One request as the fake received it, after validation. */
export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | undefined;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Json | undefined;
  authorization: string | undefined;
}

/** A planned failure: the next request to `operationId` is answered with this status and message. */
export interface PlannedFailure {
  operationId: string;
  status: number;
  message: string;
}

const DOC_ID = 'https://api.github.com/openapi.json';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let shared: { doc: OpenApiDocument; operations: Operation[]; ajv: Ajv; coercing: Ajv } | undefined;

/** Loads the description once per process and indexes its operations. */
function load() {
  if (shared) return shared;
  const doc = require('@octokit/openapi/generated/api.github.com.json') as OpenApiDocument;
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  // The description is OpenAPI 3.0: `nullable` is a keyword Ajv knows; `example`, `x-github` and friends are
  // annotations, so strict mode is off. Schemas are compiled lazily, by JSON pointer into the whole document.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc as unknown as JsonObject, DOC_ID);
  const coercing = new Ajv({ strict: false, allErrors: true, validateSchema: false, coerceTypes: true });
  addFormats(coercing);
  coercing.addSchema(doc as unknown as JsonObject, DOC_ID);
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as JsonObject | undefined;
      if (!op) continue;
      const pathNames: string[] = [];
      const pattern = new RegExp(
        `^${template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            if (part.startsWith('{')) {
              pathNames.push(part.slice(1, -1));
              return '([^/]+)';
            }
            return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          })
          .join('')}$`,
      );
      const pointer = `#/paths/${encodePointer(template)}/${method}`;
      const parameters = ((op.parameters as JsonObject[] | undefined) ?? []).map((p) =>
        resolveParameter(doc, p),
      );
      const content = (op.requestBody as JsonObject | undefined)?.content as JsonObject | undefined;
      const jsonBody = content?.['application/json'] as JsonObject | undefined;
      const body = jsonBody?.schema
        ? {
            required: Boolean((op.requestBody as JsonObject).required),
            schema: jsonBody.schema as JsonObject,
            pointer: `${pointer}/requestBody/content/application~1json/schema`,
          }
        : undefined;
      const responses: Record<string, string | undefined> = {};
      for (const [status, response] of Object.entries((op.responses as JsonObject) ?? {})) {
        // A shared response (`$ref: #/components/responses/not_found`) is followed to its own pointer.
        const ref = (response as JsonObject).$ref as string | undefined;
        const base = ref ? ref : `${pointer}/responses/${status}`;
        const resolved = ref
          ? doc.components.responses[ref.replace('#/components/responses/', '')]
          : response;
        const json = ((resolved as JsonObject).content as JsonObject | undefined)?.['application/json'] as
          | JsonObject
          | undefined;
        responses[status] = json?.schema ? `${base}/content/application~1json/schema` : undefined;
      }
      operations.push({
        operationId: op.operationId as string,
        method: method.toUpperCase(),
        template,
        pattern,
        pathNames,
        pointer,
        parameters,
        body,
        responses,
      });
    }
  }
  // A literal path beats a templated one (`/repos/{owner}/{repo}/deployments` vs `.../{deployment_id}`).
  operations.sort((a, b) => a.pathNames.length - b.pathNames.length);
  shared = { doc, operations, ajv, coercing };
  return shared;
}

function encodePointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function resolveParameter(doc: OpenApiDocument, p: JsonObject): Parameter {
  const ref = p.$ref as string | undefined;
  if (!ref) return p as unknown as Parameter;
  const name = ref.replace('#/components/parameters/', '');
  const found = doc.components.parameters[name];
  if (!found) throw new Error(`the OpenAPI description has no parameter ${ref}`);
  return found;
}

const compiled = new Map<string, ValidateFunction>();
function validatorFor(ajv: Ajv, key: string, schema: object): ValidateFunction {
  const cached = compiled.get(key);
  if (cached) return cached;
  const fn = ajv.compile(schema);
  compiled.set(key, fn);
  return fn;
}

function errorsText(fn: ValidateFunction): string {
  return (fn.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
}

/** A handler answers one operation: a status and a body that must match the operation's response schema. */
type Handler = (request: RecordedRequest) => { status: number; body?: Json };

/** The fake GitHub API. Start it with `startGitHubFake()`, point GITHUB_API_URL at `url`, close it after. */
export class GitHubFake {
  readonly requests: RecordedRequest[] = [];
  /** Every request or response that did not match the description. Must be empty at the end of a test. */
  readonly violations: string[] = [];
  /** Deployments created, by id, with the statuses posted to each. */
  readonly deployments = new Map<number, { deployment: JsonObject; statuses: JsonObject[] }>();
  private readonly failures: PlannedFailure[] = [];
  private readonly server: Server;
  private nextId = 1000;
  url = '';

  constructor() {
    load();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.violations.push(`fake error on ${req.method} ${req.url}: ${String(error)}`);
        send(res, 500, { message: 'fake failed' });
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  /**
   * Stops the server. Fails when a request did not validate and nobody cleared `violations`, so a test that
   * forgets to look still fails: requests that GitHub would refuse never pass silently.
   */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.violations.length > 0) {
      throw new Error(
        `the GitHub fake saw requests that do not match the OpenAPI description:\n${this.violations.join('\n')}`,
      );
    }
  }

  /** Answers the next request to `operationId` with `status` and a GitHub-shaped error body. */
  failNext(operationId: string, status: number, message: string): void {
    this.failures.push({ operationId, status, message });
  }

  /** The statuses posted to the one deployment created so far (fails when there is not exactly one). */
  onlyDeployment(): { deployment: JsonObject; statuses: JsonObject[] } {
    const all = [...this.deployments.values()];
    if (all.length !== 1) throw new Error(`expected one deployment, the fake holds ${all.length}`);
    return all[0] as { deployment: JsonObject; statuses: JsonObject[] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { ajv, coercing, operations } = load();
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      operationId: undefined,
      params: {},
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      authorization: req.headers.authorization,
    };
    this.requests.push(recorded);
    const problems: string[] = [];
    const matches = operations.filter((op) => op.pattern.test(url.pathname));
    const op = matches.find((candidate) => candidate.method === method);
    if (!op) {
      const why =
        matches.length > 0 ? `${method} is not an operation of ${matches[0]?.template}` : 'no such path';
      this.violations.push(`${method} ${url.pathname}: ${why} in the GitHub OpenAPI description`);
      send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    recorded.operationId = op.operationId;
    const values = op.pattern.exec(url.pathname)?.slice(1) ?? [];
    op.pathNames.forEach((name, i) => {
      recorded.params[name] = decodeURIComponent(values[i] ?? '');
    });

    for (const p of op.parameters) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      const given = p.in === 'path' ? recorded.params[p.name] : url.searchParams.get(p.name);
      if (given === undefined || given === null) {
        if (p.required) problems.push(`${p.in} parameter \`${p.name}\` is required`);
        continue;
      }
      const holder = { value: given as Json };
      const check = validatorFor(coercing, `${op.operationId}:${p.in}:${p.name}`, {
        type: 'object',
        properties: { value: p.schema ?? {} },
      });
      if (!check(holder)) problems.push(`${p.in} parameter \`${p.name}\`=${given}: ${errorsText(check)}`);
    }
    const known = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of url.searchParams.keys()) {
      if (!known.has(name)) problems.push(`query parameter \`${name}\` is not declared by ${op.operationId}`);
    }

    if (raw.length > 0) {
      const type = req.headers['content-type'] ?? '';
      if (!op.body) problems.push(`${op.operationId} takes no request body, got ${raw.length} bytes`);
      else if (!type.startsWith('application/json'))
        problems.push(`content-type must be JSON, got "${type}"`);
      else {
        try {
          recorded.body = JSON.parse(raw) as Json;
        } catch (error) {
          problems.push(`body is not JSON: ${String(error)}`);
        }
      }
    } else if (op.body?.required) {
      problems.push(`${op.operationId} requires a JSON body`);
    }
    if (op.body && recorded.body !== undefined) {
      const check = validatorFor(ajv, `${op.operationId}:body`, { $ref: `${DOC_ID}${op.body.pointer}` });
      if (!check(recorded.body)) problems.push(`body: ${errorsText(check)}`);
      const declared = op.body.schema.properties as JsonObject | undefined;
      if (declared && isObject(recorded.body) && op.body.schema.additionalProperties === undefined) {
        for (const key of Object.keys(recorded.body)) {
          if (!(key in declared))
            problems.push(`body property \`${key}\` is not declared by ${op.operationId}`);
        }
      }
    }
    if (method !== 'GET' && !recorded.authorization) problems.push('no Authorization header on a write');

    if (problems.length > 0) {
      this.violations.push(`${method} ${url.pathname} (${op.operationId}): ${problems.join('; ')}`);
      send(res, 422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' });
      return;
    }

    const planned = this.failures.findIndex((f) => f.operationId === op.operationId);
    if (planned >= 0) {
      const [failure] = this.failures.splice(planned, 1);
      send(res, failure?.status ?? 500, {
        message: failure?.message ?? 'planned failure',
        documentation_url: 'https://docs.github.com/rest',
      });
      return;
    }

    const handler = this.handlers[op.operationId];
    if (!handler) {
      this.violations.push(`${op.operationId} is valid but the fake does not implement it`);
      send(res, 501, { message: 'not implemented by the fake' });
      return;
    }
    const answer = handler(recorded);
    const schemaPointer = op.responses[String(answer.status)];
    if (answer.body !== undefined) {
      if (!schemaPointer) {
        this.violations.push(
          `${op.operationId}: the fake answered ${answer.status}, which is not documented`,
        );
      } else {
        const check = validatorFor(ajv, `${op.operationId}:response:${answer.status}`, {
          $ref: `${DOC_ID}${schemaPointer}`,
        });
        if (!check(answer.body)) {
          this.violations.push(
            `${op.operationId}: the fake's own response does not match: ${errorsText(check)}`,
          );
        }
      }
    }
    send(res, answer.status, answer.body);
  }

  private readonly handlers: Record<string, Handler> = {
    'repos/create-deployment': (r) => {
      const body = r.body as JsonObject;
      const id = this.nextId++;
      const repoUrl = `${this.url}/repos/${r.params.owner}/${r.params.repo}`;
      const now = new Date().toISOString();
      const deployment: JsonObject = {
        url: `${repoUrl}/deployments/${id}`,
        id,
        node_id: `DE_${id}`,
        sha: /^[0-9a-f]{40}$/.test(String(body.ref)) ? String(body.ref) : 'a'.repeat(40),
        ref: String(body.ref),
        task: (body.task as string | undefined) ?? 'deploy',
        payload: (body.payload as Json | undefined) ?? {},
        original_environment: (body.environment as string | undefined) ?? 'production',
        environment: (body.environment as string | undefined) ?? 'production',
        description: (body.description as string | null | undefined) ?? '',
        creator: user(this.url),
        created_at: now,
        updated_at: now,
        statuses_url: `${repoUrl}/deployments/${id}/statuses`,
        repository_url: repoUrl,
        transient_environment: (body.transient_environment as boolean | undefined) ?? false,
        production_environment:
          (body.production_environment as boolean | undefined) ??
          ((body.environment as string | undefined) ?? 'production') === 'production',
      };
      this.deployments.set(id, { deployment, statuses: [] });
      return { status: 201, body: deployment };
    },
    'repos/get-deployment': (r) => {
      const found = this.deployments.get(Number(r.params.deployment_id));
      return found ? { status: 200, body: found.deployment } : { status: 404, body: notFound() };
    },
    'repos/list-deployments': (r) => {
      const list = [...this.deployments.values()]
        .map((d) => d.deployment)
        .filter((d) => !r.query.environment || d.environment === r.query.environment)
        .filter((d) => !r.query.ref || d.ref === r.query.ref)
        .reverse();
      return { status: 200, body: list };
    },
    'repos/create-deployment-status': (r) => {
      const found = this.deployments.get(Number(r.params.deployment_id));
      if (!found) return { status: 404, body: notFound() };
      const body = r.body as JsonObject;
      const id = this.nextId++;
      const now = new Date().toISOString();
      const logUrl = (body.log_url as string | undefined) ?? (body.target_url as string | undefined) ?? '';
      const status: JsonObject = {
        url: `${found.deployment.url}/statuses/${id}`,
        id,
        node_id: `DES_${id}`,
        state: String(body.state),
        creator: user(this.url),
        description: (body.description as string | undefined) ?? '',
        environment: (body.environment as string | undefined) ?? String(found.deployment.environment),
        // GitHub's description types these as URIs, so an unset one is left out (target_url is required and
        // falls back to the deployment's own address).
        target_url: logUrl || String(found.deployment.url),
        created_at: now,
        updated_at: now,
        deployment_url: String(found.deployment.url),
        repository_url: String(found.deployment.repository_url),
        ...(body.environment_url ? { environment_url: body.environment_url } : {}),
        ...(logUrl ? { log_url: logUrl } : {}),
      };
      found.statuses.push(status);
      return { status: 201, body: status };
    },
    'repos/list-deployment-statuses': (r) => {
      const found = this.deployments.get(Number(r.params.deployment_id));
      return found ? { status: 200, body: [...found.statuses].reverse() } : { status: 404, body: notFound() };
    },
  };
}

/** Starts a fake on a free loopback port. */
export async function startGitHubFake(): Promise<GitHubFake> {
  return new GitHubFake().listen();
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notFound(): JsonObject {
  return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' };
}

function user(base: string): JsonObject {
  const url = `${base}/users/github-actions%5Bbot%5D`;
  return {
    login: 'github-actions[bot]',
    id: 41898282,
    node_id: 'MDM6Qm90NDE4OTgyODI=',
    avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
    gravatar_id: '',
    url,
    html_url: 'https://github.com/apps/github-actions',
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'Bot',
    site_admin: false,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Json | undefined): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(text);
}
