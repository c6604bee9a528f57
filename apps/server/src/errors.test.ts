import { ERROR_CODES, NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, publicError, toHttpError } from './errors.ts';

describe('toHttpError', () => {
  it('has a status for every error code', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('keeps the message of client errors and hides that of server errors', () => {
    expect(toHttpError(new NestorError('E_DECODE', 'truncated at byte 9'), 10)).toMatchObject({
      status: 422,
      body: { error: { code: 'E_DECODE', message: 'truncated at byte 9' } },
    });
    expect(
      toHttpError(new NestorError('E_MODEL_LOAD', 'could not load /srv/models/x.onnx'), 10).body,
    ).toEqual({
      error: { code: 'E_MODEL_LOAD', message: ERROR_CODES.E_MODEL_LOAD },
    });
  });

  it('answers 500 E_INTERNAL with a generic message for anything unknown', () => {
    const secret = new Error('ENOENT /home/me/secret');
    expect(toHttpError(secret, 10)).toMatchObject({
      status: 500,
      body: { error: { code: 'E_INTERNAL', message: ERROR_CODES.E_INTERNAL } },
    });
    expect(toHttpError('a string', 10).status).toBe(500);
    expect(
      toHttpError(Object.assign(new Error('x'), { code: 'FST_SOMETHING', statusCode: 503 }), 10).status,
    ).toBe(500);
  });

  it("maps fastify's own errors", () => {
    const fst = (code: string, statusCode: number) =>
      Object.assign(new Error('fastify text'), { code, statusCode });
    expect(toHttpError(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413), 99).body.error).toEqual({
      code: 'E_INPUT_TOO_LARGE',
      message: 'The input is larger than the limit of 99 bytes',
    });
    expect(toHttpError(fst('FST_REQ_FILE_TOO_LARGE', 413), 99).status).toBe(413);
    expect(toHttpError(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 99).body.error.code).toBe(
      'E_UNSUPPORTED_MEDIA',
    );
    expect(toHttpError(fst('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 99)).toMatchObject({
      status: 400,
      body: { error: { code: 'E_BAD_REQUEST', message: ERROR_CODES.E_BAD_REQUEST } },
    });
  });

  it('names the limit it is given, not one of its own', () => {
    const fst = Object.assign(new Error('fastify text'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toHttpError(fst, 16_384).body.error.message).toBe(
      'The input is larger than the limit of 16384 bytes',
    );
  });

  it.each([
    ['FST_FILES_LIMIT', 'more files'],
    ['FST_FIELDS_LIMIT', 'more fields'],
    ['FST_PARTS_LIMIT', 'more parts'],
  ])("maps @fastify/multipart's %s to 400 E_BAD_REQUEST saying which limit", (code, words) => {
    const error = toHttpError(Object.assign(new Error('reach limit'), { code, statusCode: 413 }), 99);
    expect(error.status).toBe(400);
    expect(error.body.error.code).toBe('E_BAD_REQUEST');
    expect(error.body.error.message).toContain(words);
  });

  it('takes a client that went away mid-body for a client error, not an internal one', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const premature = Object.assign(new Error('closed early'), {
      code: 'FST_MP_PREMATURE_CLOSE',
      statusCode: 400,
    });
    for (const thrown of [aborted, premature]) {
      expect(toHttpError(thrown, 99)).toMatchObject({
        status: 400,
        body: { error: { code: 'E_BAD_REQUEST', message: 'The request ended before its body was complete' } },
      });
    }
    // Other resets (an outbound socket's) stay server-side.
    const outbound = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    expect(toHttpError(outbound, 99).status).toBe(500);
  });
});

describe('publicError', () => {
  it('keeps 4xx messages, and gives 5xx and unknown codes their generic text', () => {
    expect(publicError({ code: 'E_DECODE', message: 'truncated at byte 9' })).toEqual({
      code: 'E_DECODE',
      message: 'truncated at byte 9',
    });
    expect(
      publicError({ code: 'E_MODEL_INTEGRITY', message: '/srv/models/x.onnx does not match the sha256' }),
    ).toEqual({ code: 'E_MODEL_INTEGRITY', message: ERROR_CODES.E_MODEL_INTEGRITY });
    expect(publicError({ code: 'E_SOMETHING_NEW', message: 'at /srv/x' })).toEqual({
      code: 'E_INTERNAL',
      message: ERROR_CODES.E_INTERNAL,
    });
    expect(publicError({ code: 'toString', message: 'x' }).code).toBe('E_INTERNAL');
  });

  it('is what toHttpError sends', () => {
    const error = new NestorError('E_MODEL_LOAD', 'could not load /srv/models/x.onnx');
    expect(toHttpError(error, 10).body.error).toEqual(publicError(error));
  });

  it.each([
    {
      what: "a refused option's facts, and nothing else of its details",
      error: new NestorError('E_INVALID_OPTION', 'Expected a value of at most 100 for quality', {
        details: { option: 'quality', reason: 'range', maximum: 100, received: 'x'.repeat(1000) },
      }),
      details: { option: 'quality', reason: 'range', maximum: 100 },
    },
    {
      what: 'no details where an E_INVALID_OPTION names no option',
      error: new NestorError('E_INVALID_OPTION', 'Missing field "name"'),
      details: undefined,
    },
    {
      what: 'no details of any other code (a renewal grant is a secret)',
      error: new NestorError('E_CREDENTIALS_EXPIRED', 'renew', {
        details: { option: 'x', reason: 'invalid', renewalGrant: 'u.1.mac' },
      }),
      details: undefined,
    },
  ])('shows $what', ({ error, details }) => {
    const shown = toHttpError(error, 10).body.error;
    expect(shown.details).toEqual(details);
    expect(JSON.stringify(shown)).not.toMatch(/xxxx|renewalGrant/);
  });
});
