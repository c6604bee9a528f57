import { ERROR_CODES, NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, toHttpError } from './errors.ts';

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
    expect(toHttpError(fst('FST_PARTS_LIMIT', 413), 99)).toMatchObject({
      status: 400,
      body: { error: { code: 'E_BAD_REQUEST', message: ERROR_CODES.E_BAD_REQUEST } },
    });
  });
});
