import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Raised when a graph does not have the one NCHW image input this rewrite expects. */
export class DynamicSizeError extends Error {
  override readonly name = 'DynamicSizeError';
}

/**
 * Makes a fully convolutional ONNX graph's fixed input height and width dynamic (`height`,
 * `width`), with its outputs' spatial dimensions, so a view is run at the size of its content
 * instead of padded to the size the graph was exported at. Only the declared shapes change: the
 * graph must compute its inner shapes from its input (0/-1 reshapes, Shape-driven slices), which the
 * caller's test checks by running it at another size. Stale inner shape annotations are dropped.
 */
export function makeInputSizeDynamic(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  const inputs = graph?.input ?? [];
  const initialisers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const images = inputs.filter((i) => !initialisers.has(i.name));
  const dims = images[0]?.type?.tensorType?.shape?.dim;
  if (!graph || images.length !== 1 || dims?.length !== 4) {
    throw new DynamicSizeError('Expected one 4-D NCHW image input');
  }
  const symbolic = (name: string) => onnx.TensorShapeProto.Dimension.create({ dimParam: name });
  dims[2] = symbolic('height');
  dims[3] = symbolic('width');
  for (const output of graph.output ?? []) {
    const outDims = output.type?.tensorType?.shape?.dim;
    if (outDims?.length !== 4) continue;
    outDims[2] = symbolic(`${output.name}_height`);
    outDims[3] = symbolic(`${output.name}_width`);
  }
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}
