#!/usr/bin/env -S npx tsx
/**
 * Export a TensorFlow.js graph model to ONNX.
 *
 *   tsx packages/models/bin/export-onnx.ts <model.json> <out.onnx> [--input-shape name=1,512,512,3] [--output tensor]...
 *
 * Prints the ONNX inputs/outputs (names, element types, shapes; image tensors are NHWC) and the sha256 of the
 * file, which is what the model manifest records.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodeOnnxModel, type OnnxValueInfo } from '../src/export/onnx-writer.ts';
import { readTfjsGraphModel } from '../src/export/tfjs-graph.ts';
import { type ConvertOptions, tfGraphToOnnxModel } from '../src/export/tfjs-to-onnx.ts';

const USAGE =
  'usage: tsx packages/models/bin/export-onnx.ts <model.json> <out.onnx> [--input-shape name=d0,d1,...]... [--output tensor]...';

function parseInputShapes(specs: readonly string[]): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const spec of specs) {
    const at = spec.lastIndexOf('=');
    const dims = spec
      .slice(at + 1)
      .split(',')
      .map(Number);
    if (at <= 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`--input-shape '${spec}': expected name=d0,d1,... with positive integers`);
    }
    shapes[spec.slice(0, at)] = dims;
  }
  return shapes;
}

const describe = (kind: string, v: OnnxValueInfo): string =>
  `${kind.padEnd(6)} ${v.name}  ${v.elemType}[${v.shape.join(',')}]`;

async function main(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'input-shape': { type: 'string', multiple: true },
      output: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [modelJson, outPath] = positionals;
  if (values.help === true || modelJson === undefined || outPath === undefined || positionals.length > 2) {
    console.error(USAGE);
    return values.help === true ? 0 : 2;
  }
  const options: ConvertOptions = {
    inputShapes: parseInputShapes(values['input-shape'] ?? []),
    ...(values.output === undefined ? {} : { outputs: values.output }),
  };
  const started = performance.now();
  const model = tfGraphToOnnxModel(await readTfjsGraphModel(modelJson), options);
  const bytes = encodeOnnxModel(model);
  const elapsed = performance.now() - started;
  await writeFile(outPath, bytes);

  console.log(
    `${modelJson} -> ${outPath}: ${bytes.length} bytes, opset ${model.opsetVersion}, ${elapsed.toFixed(0)} ms`,
  );
  for (const input of model.graph.inputs) console.log(describe('input', input));
  for (const output of model.graph.outputs) console.log(describe('output', output));
  console.log(`sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`export-onnx: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
