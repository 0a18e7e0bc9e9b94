import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../core/app-error.js';

/** Error codes of fastify, its plugins and the store's libraries, mapped to our stable codes. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'BAD_REQUEST',
  FST_FIELDS_LIMIT: 'BAD_REQUEST',
  FST_PROTO_VIOLATION: 'BAD_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
  // The store's disk is full (SQLite refuses the write, so nothing was stored).
  SQLITE_FULL: 'STORAGE_FULL',
  ENOSPC: 'STORAGE_FULL',
};

/** Messages that say more than the framework's own (e.g. busboy's "reach files limit"). */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_FILES_LIMIT: 'one image per request: send each image in a request of its own (`npm run index` enrols whole folders)',
  FST_FIELDS_LIMIT: 'too many form fields',
};

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  const statusCode = ERROR_CODES[code].status;
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function toAppError(err: FastifyError | Error): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ');
    return new AppError('BAD_REQUEST', `invalid ${(err as FastifyError).validationContext ?? 'request'}: ${issues}`);
  }
  const fastifyCode = (err as FastifyError).code;
  const mapped = fastifyCode ? FRAMEWORK_CODES[fastifyCode] : undefined;
  if (mapped) return new AppError(mapped, FRAMEWORK_MESSAGES[fastifyCode!] ?? err.message, { cause: err });
  // A malformed multipart body surfaces as a plain busboy Error with a 4xx statusCode or none.
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new AppError('BAD_REQUEST', err.message, { cause: err });
  if (/multipart|boundary|unexpected end of form/i.test(err.message)) return new AppError('BAD_REQUEST', `malformed multipart body: ${err.message}`, { cause: err });
  return new AppError('INTERNAL', 'internal error', { cause: err });
}

/** Told the code of every error answer (e.g. to count them); 'CLIENT_CLOSED' when no one was left to answer. */
export type ErrorCounter = (code: ErrorCode | 'CLIENT_CLOSED') => void;

/**
 * Errors of the router before any route runs (fastify's `frameworkErrors`): a path that is not
 * valid percent-encoding, or a path parameter longer than the router's limit.
 */
export function frameworkErrors(count: ErrorCounter) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    answer(error, new AppError('BAD_REQUEST', error.message, { cause: error }), request, reply, count);
}

/** Counts and logs `err` as `appError`, and sends that in the service's shape, with no internals for a 5xx. */
function answer(err: unknown, appError: AppError, request: FastifyRequest, reply: FastifyReply, count: ErrorCounter): FastifyReply {
  count(appError.code);
  if (appError.statusCode >= 500 && appError.code !== 'OVERLOADED' && appError.code !== 'NOT_READY') {
    request.log.error({ err }, 'request failed');
  } else {
    request.log.info({ code: appError.code, reason: appError.message }, 'request rejected');
  }
  if (appError.retryAfterSeconds !== undefined) void reply.header('retry-after', String(appError.retryAfterSeconds));
  const message = appError.code === 'INTERNAL' ? 'internal error; see the server log for request ' + request.id : appError.message;
  return reply.code(appError.statusCode).send(errorBody(appError.code, message));
}

/**
 * Requests that Node's HTTP parser refuses before fastify sees them (fastify's
 * `clientErrorHandler`), answered in the same shape: not received in full in time, headers too
 * large, or not HTTP at all (e.g. a Content-Length next to chunked encoding).
 */
export function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? errorBody('REQUEST_TIMEOUT', 'the request was not received in full within the request timeout')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? errorBody('HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts')
        : errorBody('BAD_REQUEST', `malformed HTTP request${err.code ? ` (${err.code})` : ''}`);
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${body.statusCode} ${body.error}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  }
  socket.destroy(err);
}

/**
 * The one error handler: stable codes, fastify's shape, and no internals for 5xx. A request whose
 * client has gone (an upload cut off midway, or a client that gave up waiting) is not the
 * service's failure: it is logged at info and counted as CLIENT_CLOSED.
 */
export function registerErrorHandler(app: FastifyInstance, count: ErrorCounter): void {
  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    // The connection is gone (mid-upload, or while the request waited or ran): no one to answer.
    if (reply.raw.destroyed) {
      request.log.info({ reason: err.message }, 'client closed the connection before the answer');
      count('CLIENT_CLOSED');
      return reply.code(400).send(errorBody('BAD_REQUEST', 'the client closed the connection'));
    }
    return answer(err, toAppError(err), request, reply, count);
  });

  app.setNotFoundHandler((request, reply) => {
    count('NOT_FOUND');
    return reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
