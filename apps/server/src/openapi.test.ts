import { readFile } from 'node:fs/promises';
import { VIDEO_MIME_TYPES } from '@nestor/video';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESULT_MIME_TYPES } from './jobs/routes.ts';
import { OPENAPI_FILE, renderOpenApi } from './openapi.ts';
import { JOB_OPTION_NAMES, OPTION_NAMES, optionsFromFields } from './options.ts';

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

describe('openapi.json', () => {
  it('is what the server documents (run npm run openapi after changing a route or schema)', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8');
    const rendered = await renderOpenApi();
    // Parsed first, so a failure shows which paths or schemas drifted; then byte for byte.
    expect(JSON.parse(committed)).toEqual(JSON.parse(rendered));
    expect(committed).toBe(rendered);
  });

  it('renders the same document every time', async () => {
    expect(await renderOpenApi()).toBe(await renderOpenApi());
  });
});

describe('the document says what the routes do', () => {
  let doc: Document;
  beforeAll(async () => {
    doc = JSON.parse(await renderOpenApi()) as Document;
  });
  const post = (path: string) => doc.paths[path]!.post!;
  const query = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const formFields = (op: Operation) =>
    Object.keys(op.requestBody!.content['multipart/form-data']!.schema.properties ?? {}).filter(
      (name) => name !== 'file',
    );

  it.each(['/v1/detect', '/detect', '/v1/anonymize', '/predict'])(
    'POST %s documents exactly the options it accepts, in the query and the form',
    (path) => {
      expect(query(post(path)).sort()).toEqual([...OPTION_NAMES].sort());
      expect(formFields(post(path)).sort()).toEqual([...OPTION_NAMES].sort());
    },
  );

  it('POST /v1/jobs documents exactly the options it accepts (task too), in the query and the form', () => {
    expect(query(post('/v1/jobs')).sort()).toEqual([...JOB_OPTION_NAMES].sort());
    expect(formFields(post('/v1/jobs')).sort()).toEqual([...JOB_OPTION_NAMES].sort());
  });

  it('the option lists are what optionsFromFields accepts, and task only for jobs', () => {
    const known = (name: string, accepted?: readonly string[]) => {
      try {
        optionsFromFields({ [name]: '' }, accepted);
      } catch (error) {
        return !(error as Error).message.startsWith('Expected a known option');
      }
      return true;
    };
    for (const name of OPTION_NAMES) expect(known(name), name).toBe(true);
    for (const name of JOB_OPTION_NAMES) expect(known(name, JOB_OPTION_NAMES), name).toBe(true);
    expect(known('task')).toBe(false);
  });

  it('GET /v1/jobs/{id}/result lists the content types a job can produce', () => {
    const content = doc.paths['/v1/jobs/{id}/result']!.get!.responses['200']!.content!;
    expect(Object.keys(content).sort()).toEqual([...RESULT_MIME_TYPES].sort());
    expect(Object.keys(content)).toEqual(
      expect.arrayContaining(['application/json', 'application/zip', ...Object.values(VIDEO_MIME_TYPES)]),
    );
  });
});
