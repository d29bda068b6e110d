import { BadRequestException, ForbiddenException, HttpException, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { BoxAccessDenied } from '../box-callbacks/box-access.service';
import { identityMerged } from '../identities/identity-errors';
import { DomainError } from './domain-error';
import { HttpErrorFilter } from './http-error.filter';
import { PayloadFieldError } from './payload-error';

const describeError = (e: unknown) => new HttpErrorFilter().describe(e);

describe('HttpErrorFilter mapping', () => {
  it.each([
    ['invalid', 400, 'Bad Request'],
    ['unauthenticated', 401, 'Unauthorized'],
    ['forbidden', 403, 'Forbidden'],
    ['not_found', 404, 'Not Found'],
  ] as const)('maps a %s domain error to %i with its code and field', (kind, status, error) => {
    expect(describeError(new DomainError(kind, 'some_code', 'what went wrong', 'id'))).toEqual({
      status,
      body: { statusCode: status, error, code: 'some_code', message: 'what went wrong', field: 'id' },
    });
  });

  it('leaves field out when the error names none', () => {
    expect(describeError(new DomainError('invalid', 'x_y', 'm')).body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'x_y',
      message: 'm',
    });
  });

  it('answers a module error by its code', () => {
    const id = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    expect(describeError(identityMerged(id))).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', code: 'identity_merged', message: `the identity was merged into ${id}`, field: 'id' },
    });
  });

  it('answers box refusals 401/403 with the same fields as before, and the reason as code', () => {
    expect(describeError(new BoxAccessDenied('unauthenticated', 'token_mismatch', 'token', 'wrong token', 'BOX-1'))).toEqual({
      status: 401,
      body: {
        statusCode: 401,
        error: 'Unauthorized',
        code: 'token_mismatch',
        message: 'wrong token',
        field: 'token',
        reason: 'token_mismatch',
      },
    });
    expect(describeError(new BoxAccessDenied('forbidden', 'box_disabled', '[0].dev_sno', 'box disabled'))).toMatchObject({
      status: 403,
      body: { code: 'box_disabled', reason: 'box_disabled', field: '[0].dev_sno' },
    });
  });

  it.each([
    [new BadRequestException({ message: 'limit must be a number', field: 'limit' }), 400, 'invalid_input'],
    [new PayloadFieldError('[3].timestamp', 'timestamp is missing'), 400, 'invalid_input'],
    [new UnauthorizedException({ message: 'an API key is required' }), 401, 'unauthenticated'],
    [new ForbiddenException({ message: 'admin only' }), 403, 'forbidden'],
    [new NotFoundException('Cannot GET /nowhere'), 404, 'not_found'],
    [new HttpException({ message: 'too big' }, 413), 413, 'payload_too_large'],
    [new HttpException({ message: 'gzip' }, 415), 415, 'unsupported_media_type'],
    [new ThrottlerException(), 429, 'rate_limited'],
    [new HttpException({ message: 'too many pushes' }, 503), 503, 'unavailable'],
  ])('gives framework and edge HTTP errors a code by status (%#)', (e, status, code) => {
    const { status: s, body } = describeError(e);
    expect([s, body.statusCode, body.code]).toEqual([status, status, code]);
    expect(typeof body.message).toBe('string');
  });

  it('keeps a code an edge HTTP error names itself', () => {
    expect(describeError(new HttpException({ message: 'slow', code: 'request_timeout' }, 408)).body.code).toBe('request_timeout');
  });

  it.each([
    ['entity.parse.failed', 400, 'invalid_json'],
    ['entity.too.large', 413, 'payload_too_large'],
    ['encoding.unsupported', 415, 'unsupported_encoding'],
    ['charset.unsupported', 415, 'unsupported_charset'],
  ])('names body parser failures (%s) without quoting the body', (type, status, code) => {
    const raw = Object.assign(new Error('Unexpected token in {"feature":[0.1'), { type, status });
    const { body } = describeError(raw);
    expect(body).toMatchObject({ statusCode: status, code, field: 'body' });
    expect(JSON.stringify(body)).not.toContain('feature');
  });

  it('answers anything else 500 internal_error without its message', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { status, body } = describeError(new Error('secret detail'));
      expect(status).toBe(500);
      expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', code: 'internal_error', message: 'internal error' });
    } finally {
      logged.mockRestore();
    }
  });

  it('refuses a code that is not snake_case', () => {
    expect(() => new DomainError('invalid', 'Record-Not-Found', 'm')).toThrow(/snake_case/);
  });
});
