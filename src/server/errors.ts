// Errors as JSON with a message the caller can act on; never a stack trace. Every error body
// carries the core's Issues unchanged: `{statusCode, error, message, issues: [{code, path,
// message}]}`, the path a list of keys and indexes into the request part it is about.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ISSUE_CODES, type Issue, type IssueCode, type Path, describe, formatIssues } from '../core/result.js';
import { MEMBER_NAMES } from '../core/validation.js';

export interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly issues: readonly Issue[];
}

const NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  414: 'URITooLong',
  415: 'UnsupportedMediaType',
  422: 'Unprocessable',
  500: 'InternalError',
  503: 'Unavailable',
};

/** The issue code an error of a status stands for, when nothing more precise is known. */
const CODES: Record<number, IssueCode> = {
  400: 'RequestInvalid',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestInvalid',
  414: 'RequestInvalid',
  415: 'RequestInvalid',
  422: 'FieldValueInvalid',
  503: 'Unavailable',
};

/** An error about the request as a whole: one issue, with no path. */
export function errorBody(statusCode: number, message: string): ErrorBody {
  return issuesBody(statusCode, [{ code: CODES[statusCode] ?? 'Internal', path: [], message }]);
}

/** An error made of issues: the message says them all, each on its own. */
export function issuesBody(statusCode: number, issues: readonly Issue[]): ErrorBody {
  return { statusCode, error: NAMES[statusCode] ?? 'Error', message: formatIssues(issues).replace(/\n/g, '; '), issues };
}

export const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'path', 'message'],
        properties: {
          code: { type: 'string', enum: [...ISSUE_CODES] },
          path: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] }, description: 'keys and indexes into the request part the issue is about' },
          message: { type: 'string' },
        },
      },
    },
  },
  required: ['statusCode', 'error', 'message', 'issues'],
} as const;

/** What a schema check found, as Issues: each at the field it is about, with the kind of problem. */
function schemaIssues(e: FastifyError): Issue[] {
  const part = e.validationContext ?? 'body';
  return (e.validation ?? []).map((v) => {
    const at: (string | number)[] = v.instancePath
      .split('/')
      .slice(1)
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k.replace(/~1/g, '/').replace(/~0/g, '~')));
    const params = v.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    const code: IssueCode =
      v.keyword === 'required'
        ? 'FieldValueRequired'
        : v.keyword === 'type'
          ? 'FieldValueTypeInvalid'
          : v.keyword === 'enum' || v.keyword === 'additionalProperties'
            ? 'FieldValueNotSupported'
            : 'FieldValueInvalid';
    const field = params.missingProperty ?? params.additionalProperty;
    const path: Path = [...(part === 'body' ? [] : [part]), ...at, ...(field !== undefined ? [field] : [])];
    return { code: v.keyword === 'pattern' && QUANTITY_PATTERN.test(String(v.params.pattern)) ? 'QuantityInvalid' : code, path, message: schemaMessage(v) };
  });
}

/** The pattern the CRD gives quantities: a value that fails it is "not a quantity". */
const QUANTITY_PATTERN = /\[KMGTPE\]i/;

const TYPES: Record<string, string> = { integer: 'an integer', number: 'a number', string: 'a string', object: 'an object', array: 'a list', boolean: 'true or false' };

/** A schema check's finding in the words the rest of Orrery uses (validation.ts): what was expected, what was given. */
function schemaMessage(v: NonNullable<FastifyError['validation']>[number]): string {
  const p = v.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; type?: string; limit?: number; pattern?: string };
  const data = (v as { data?: unknown }).data;
  const parent = ((v as { parentSchema?: Record<string, unknown> }).parentSchema ?? {}) as { minimum?: number; maximum?: number };
  switch (v.keyword) {
    case 'required':
      return 'required';
    case 'additionalProperties':
      return `unknown field ${JSON.stringify(p.additionalProperty)}`;
    case 'type':
      return `expected ${TYPES[p.type ?? ''] ?? p.type}, got ${describe(data)}`;
    case 'enum':
      return `expected one of ${(p.allowedValues ?? []).join(', ')}, got ${describe(data)}`;
    case 'minimum':
    case 'maximum':
      return parent.minimum !== undefined && parent.maximum !== undefined
        ? `must be between ${parent.minimum} and ${parent.maximum}, got ${String(data)}`
        : `must be ${v.keyword === 'minimum' ? 'at least' : 'at most'} ${p.limit}, got ${String(data)}`;
    case 'minItems':
      return `must have at least ${p.limit} ${p.limit === 1 ? 'item' : 'items'}`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'maxLength':
      return `must be at most ${p.limit} characters, got ${String(data).length}`;
    case 'minLength':
      return `must be at least ${p.limit} ${p.limit === 1 ? 'character' : 'characters'}`;
    case 'pattern': {
      if (QUANTITY_PATTERN.test(String(p.pattern))) return `${describe(data)} is not a quantity`;
      const known = Object.values(MEMBER_NAMES).find((n) => n.pattern.source === p.pattern);
      return known !== undefined ? `${JSON.stringify(data)} ${known.words}` : `${describe(data)} does not match ${p.pattern}`;
    }
    default:
      return v.message ?? 'is invalid';
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((e: FastifyError, req, reply) => {
    let status = e.statusCode ?? 500;
    let message = e.message;
    if (e.validation) {
      void reply.code(400).send(issuesBody(400, schemaIssues(e)));
      return;
    } else if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) {
      status = 400;
      message = `the body is not valid JSON: ${e.message}`;
    } else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = 'the body is larger than this server accepts';
    } else if (status >= 500) {
      req.log.error({ err: e }, 'request failed');
      message = 'internal error';
    }
    void reply.code(status).send(errorBody(status, message));
  });
  // Every route's path as a pattern, to tell a path served with other methods (405) from none (404).
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (r) => {
    const pattern = new RegExp(
      `^${r.url
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[A-Za-z]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    );
    routes.push({ pattern, methods: ([] as string[]).concat(r.method) });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].filter((m) => m !== 'HEAD').sort();
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(errorBody(405, `${req.method} is not served on ${path}: ${allowed.join(', ')} ${allowed.length === 1 ? 'is' : 'are'}`));
      return;
    }
    void reply.code(404).send(errorBody(404, `no route ${req.method} ${path}`));
  });
}

/** What the router refuses before a route is chosen (a path part too long, a bad %-escape), in the one shape, without echoing the URL. */
export function routerRefusal(e: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const [status, message] =
    e.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'a part of the path is longer than 1024 characters']
      : e.code === 'FST_ERR_BAD_URL'
        ? [400, 'the path is not a valid URL: a %-escape in it decodes to nothing']
        : [400, 'the request could not be routed'];
  void reply.code(status).send(errorBody(status, message));
}
