// Errors as JSON with a message the caller can act on; never a stack trace.

import type { FastifyError, FastifyInstance } from 'fastify';

export interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

const NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Unprocessable',
  500: 'InternalError',
  503: 'Unavailable',
};

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: NAMES[statusCode] ?? 'Error', message };
}

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
} as const;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((e: FastifyError, req, reply) => {
    let status = e.statusCode ?? 500;
    let message = e.message;
    if (e.validation) {
      status = 400;
      // "body/spec must be object" reads better as "body.spec must be object"
      message = e.validation.map((v) => `${(e.validationContext ?? 'request')}${v.instancePath.replace(/\//g, '.')} ${v.message ?? 'is invalid'}`).join('; ');
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
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}
