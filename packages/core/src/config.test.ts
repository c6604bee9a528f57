import { describe, expect, it } from 'vitest';
import {
  type ConfigInput,
  defaultConfig,
  detectionConfig,
  detectionConfigJsonSchema,
  modelsOfClass,
  PRESET_EFFORT,
  PRESETS,
  parseConfig,
} from './config.ts';
import { NestorError } from './errors.ts';
import { parseProcessOptions, resolveSettings } from './options.ts';

describe('config', () => {
  it('documents every default in the schema', () => {
    const c = defaultConfig();
    expect(c.task).toBe('anonymize');
    expect(c.targets).toEqual(['face', 'plate']);
    expect(c.classes.face.shape).toBe('ellipse');
    expect(c.classes.plate.shape).toBe('rect');
    expect(c.classes.face.iouThreshold).toBe(0.3);
    expect(c.output).toEqual({ format: 'same', quality: 90, keepMetadata: false });
    expect(Object.isFrozen(c.classes.face)).toBe(true);
  });

  it('reports every invalid key at once', () => {
    try {
      parseConfig({ task: 'blur', output: { quality: 500 }, extra: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NestorError);
      const e = error as NestorError;
      expect(e.code).toBe('E_INVALID_CONFIG');
      expect(e.message).toContain('task');
      expect(e.message).toContain('output.quality');
      expect(e.message).toContain('extra');
    }
  });
});

describe('detection config (what the on-device engine runs with)', () => {
  const server: ConfigInput = {
    modelsDir: '/srv/nestor/models',
    preset: 'thorough',
    targets: ['face'],
    classes: {
      face: { minScore: 0.9, presets: { fast: { models: ['retinaface-mnet025'], maxInputPixels: 400_000 } } },
      plate: { iouThreshold: 0.4, minSize: 20 },
    },
    redaction: { method: 'solid', color: '#ff0000' },
    output: { keepMetadata: true },
    limits: { maxPixels: 20_000_000 },
    engine: { threads: 12 },
    server: { host: '10.1.2.3', trustProxy: '10.0.0.0/8' },
    jobs: { storageDir: '/srv/nestor/jobs' },
    redis: { url: 'redis://:hunter2@redis:6379' },
    auth: {
      mode: 'accounts',
      secretKey: 'c2VjcmV0LWtleS1vZi10aGUtc2VydmVy',
      secretKeyFile: '/etc/nestor/key',
    },
    database: { url: 'postgres://nestor:hunter2@db:5432/nestor', dataDir: '/srv/nestor/db' },
  };

  it('holds the detection settings only: no secret, no path on the server, no server-only setting', () => {
    const sent = JSON.stringify(detectionConfig(parseConfig(server)));
    expect(Object.keys(JSON.parse(sent)).sort()).toEqual([
      'classes',
      'limits',
      'preset',
      'redaction',
      'targets',
    ]);
    for (const secret of [
      'hunter2',
      'c2VjcmV0',
      '/srv/',
      '/etc/',
      '10.1.2.3',
      'redis:',
      'postgres:',
      'threads',
    ]) {
      expect(sent).not.toContain(secret);
    }
  });

  it.each(PRESETS)('resolves, after a JSON round trip, the settings of the server (%s)', (preset) => {
    const config = parseConfig(server);
    const client = parseConfig(JSON.parse(JSON.stringify(detectionConfig(config))));
    // The page sends the output options with each run; the rest comes from the detection config.
    const run = { preset, format: 'png', quality: 80, keepMetadata: false } as const;
    for (const task of ['detect', 'anonymize'] as const) {
      expect(resolveSettings(client, { ...run, task })).toEqual(resolveSettings(config, { ...run, task }));
    }
  });

  it('documents its shape with every key that has a default required, and no default values', () => {
    const schema = detectionConfigJsonSchema() as {
      required: string[];
      properties: {
        limits: { required: string[] };
        classes: { properties: { face: { required: string[] } } };
      };
    };
    expect(schema.required).toEqual(['preset', 'targets', 'classes', 'redaction', 'limits']);
    expect(schema.properties.limits.required.sort()).toEqual([
      'maxBytes',
      'maxFrames',
      'maxPixels',
      'minSide',
    ]);
    expect(schema.properties.classes.properties.face.required).toContain('minScore');
    expect(schema.properties.classes.properties.face.required).not.toContain('minSize');
    expect(JSON.stringify(schema)).not.toMatch(/"default"|"\$schema"/);
  });
});

describe('process options', () => {
  it.each([
    {
      input: { method: 'swirl' },
      message:
        'Expected one of "gaussian", "pixelate", "solid", "adaptive" for method but received "swirl" of type string',
    },
    {
      input: { quality: 0 },
      message: 'Expected a value of at least 1 for quality but received 0 of type number',
    },
    {
      input: { strength: 'strong' },
      message: 'Expected a number for strength but received "strong" of type string',
    },
    {
      input: { targets: [] },
      message: 'Expected a list of at least 1 for targets but received  of type object',
    },
    {
      input: { minScore: { face: 2 } },
      message: 'Expected a value of at most 1 for minScore.face but received 2 of type number',
    },
    {
      input: { colour: 'red' },
      message: 'Expected no unknown option (colour) for options but received [object Object] of type object',
    },
  ])('rejects $input with one message format', ({ input, message }) => {
    expect(() => parseProcessOptions(input)).toThrow(message);
  });

  it('merges request options over the config, per class', () => {
    const s = resolveSettings(
      defaultConfig(),
      parseProcessOptions({ method: 'pixelate', minScore: { plate: 0.9 }, preset: 'fast' }),
    );
    expect(s.classes.face.method).toBe('pixelate');
    expect(s.classes.plate.minScore).toBe(0.9);
    expect(s.classes.face.minScore).toBe(defaultConfig().classes.face.minScore);
    expect(s.classes.face.minSize).toEqual(PRESET_EFFORT.fast.face);
    expect(s.classes.face.models).toEqual(['ssd-mobilenet-v1-face']);
    expect(s.classes.face.weights).toEqual([4]);
    expect(s.color).toEqual([0, 0, 0]);
  });

  it('searches vehicles for plates only in balanced (fast is the video default), and the config can turn it off', () => {
    const config = defaultConfig();
    expect(config.classes.plate.context).toBe('centernet-coco');
    expect(config.classes.face.context).toBeNull();
    expect(modelsOfClass(config.classes.plate)).toEqual(['ppocr-v4-det', 'ppocr-v4-rec', 'centernet-coco']);
    const at = (preset: 'fast' | 'balanced' | 'thorough') =>
      resolveSettings(config, parseProcessOptions({ preset })).vehicleContext;
    expect(at('fast')).toBeNull();
    expect(at('balanced')).toEqual({ maxImagePixels: 4_000_000 });
    expect(at('thorough')).toBeNull();
    const off = parseConfig({ classes: { plate: { context: null } } });
    expect(resolveSettings(off).classes.plate.context).toBeNull();
  });

  it('gives each model of a class its weight, 1 when unlisted', () => {
    const config = parseConfig({
      classes: { face: { models: ['a', 'b', 'c'], weights: { c: 3, unused: 5 } } },
    });
    expect(resolveSettings(config).classes.face.weights).toEqual([1, 1, 3]);
    expect(() => parseConfig({ classes: { face: { weights: { a: 0 } } } })).toThrow(/weights/);
  });

  const withPresets = parseConfig({
    classes: {
      face: {
        models: ['a', 'b'],
        weights: { a: 2, b: 0.5 },
        minScore: 0.7,
        presets: { thorough: { models: ['a', 'b', 'c'], weights: { c: 3 }, minScore: 0.8 }, fast: null },
      },
    },
  });
  it.each([
    { preset: 'fast', models: ['a'], weights: [2], minScore: 0.7 },
    { preset: 'balanced', models: ['a', 'b'], weights: [2, 0.5], minScore: 0.7 },
    { preset: 'thorough', models: ['a', 'b', 'c'], weights: [2, 0.5, 3], minScore: 0.8 },
  ] as const)('$preset runs its own models, weights and threshold where the config gives them', (row) => {
    const face = resolveSettings(withPresets, parseProcessOptions({ preset: row.preset })).classes.face;
    expect([face.models, face.weights, face.minScore]).toEqual([row.models, row.weights, row.minScore]);
  });

  it('lets a request threshold win over a preset threshold, and counts every preset model as the class', () => {
    const options = parseProcessOptions({ preset: 'thorough', minScore: { face: 0.5 } });
    expect(resolveSettings(withPresets, options).classes.face.minScore).toBe(0.5);
    expect(modelsOfClass(withPresets.classes.face)).toEqual(['a', 'b', 'c']);
    expect(() => parseConfig({ classes: { face: { presets: { quick: {} } } } })).toThrow(/presets/);
    expect(() => parseConfig({ classes: { face: { presets: { fast: { models: [] } } } } })).toThrow(
      /presets\.fast\.models/,
    );
  });

  const faceBudget = parseConfig({
    classes: { face: { presets: { balanced: { maxInputPixels: 4_000_000 } } } },
  });
  it.each([
    { preset: 'fast', face: 250_000, plate: 250_000 },
    { preset: 'balanced', face: 4_000_000, plate: 650_000 },
    { preset: 'thorough', face: 100_000_000, plate: 100_000_000 },
  ] as const)('$preset: each class reads large photos with its own input budget', (row) => {
    const { face, plate } = resolveSettings(faceBudget, parseProcessOptions({ preset: row.preset })).classes;
    expect([face.maxInputPixels, plate.maxInputPixels]).toEqual([row.face, row.plate]);
  });

  it.each([
    { preset: 'fast', config: defaultConfig(), face: 0 },
    { preset: 'balanced', config: defaultConfig(), face: 2_000_000 },
    { preset: 'thorough', config: defaultConfig(), face: 0 },
    {
      preset: 'balanced',
      config: parseConfig({ classes: { face: { presets: { balanced: { crowdInputPixels: 0 } } } } }),
      face: 0,
    },
    {
      preset: 'fast',
      config: parseConfig({ classes: { face: { presets: { fast: { crowdInputPixels: 1_000_000 } } } } }),
      face: 1_000_000,
    },
  ] as const)('$preset searches crowds of faces with a budget of $face input pixels; plates never', (row) => {
    const { face, plate } = resolveSettings(row.config, parseProcessOptions({ preset: row.preset })).classes;
    expect([face.crowdInputPixels, plate.crowdInputPixels]).toEqual([row.face, 0]);
  });

  it('reads faces at the quarter turns a preset asks for, plates never', () => {
    const config = parseConfig({ classes: { face: { presets: { thorough: { faceTurns: [90, 270] } } } } });
    const at = (preset: 'balanced' | 'thorough') =>
      resolveSettings(config, parseProcessOptions({ preset })).classes;
    expect([at('balanced').face.turns, at('thorough').face.turns, at('thorough').plate.turns]).toEqual([
      [],
      [90, 270],
      [],
    ]);
  });

  it.each([[[45]], [[90, 90]], [[90, 180, 270, 90]]])('refuses the turns %j', (faceTurns) => {
    expect(() => parseConfig({ classes: { face: { presets: { balanced: { faceTurns } } } } })).toThrow(
      /presets\.balanced\.faceTurns/,
    );
  });

  it.each([-1, 2.5, 200_000_000])('refuses a crowd budget of %s', (crowdInputPixels) => {
    expect(() => parseConfig({ classes: { face: { presets: { balanced: { crowdInputPixels } } } } })).toThrow(
      /presets\.balanced\.crowdInputPixels/,
    );
  });

  it.each([50, 2.5, 200_000_000])('refuses an input budget of %s', (maxInputPixels) => {
    expect(() => parseConfig({ classes: { face: { presets: { balanced: { maxInputPixels } } } } })).toThrow(
      /presets\.balanced\.maxInputPixels/,
    );
  });
});
