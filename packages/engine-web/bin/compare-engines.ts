/**
 * Measures how the on-device engine (onnxruntime-web in headless Chromium, CanvasCodec) agrees with
 * the server engine (onnxruntime-node, sharp) on dev-set photos, and how long each takes.
 *
 *   node --import tsx packages/engine-web/bin/compare-engines.ts [--every 10] [--large] [--halve] [--plain] [--threads N]
 *
 * --every N   every Nth photo of ../shared/eval/dev (default 10)
 * --large     only the photos of 4 MP and more (where the node codec adds a quarter-size copy)
 * --halve     no quarter-size copy from the browser codec (quarterCopy false): the coarse views
 *             halve the full image in JavaScript instead
 * --plain     the page is not cross-origin isolated (one WebAssembly thread)
 * --threads N WebAssembly threads in an isolated page (config engine.threads; default half the cores)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareDetections, defaultConfig } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import { HAS_CHROMIUM, openBrowserSession } from './browser-session.ts';

const DEV = path.resolve(import.meta.dirname, '../../../../shared/eval/dev');
const { values } = parseArgs({
  options: {
    every: { type: 'string', default: '10' },
    large: { type: 'boolean', default: false },
    halve: { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    threads: { type: 'string', default: '0' },
  },
});
if (!HAS_CHROMIUM) throw new Error('/usr/bin/chromium is missing');

interface Entry {
  readonly file: string;
  readonly width: number;
  readonly height: number;
}
const annotations = JSON.parse(await readFile(path.join(DEV, 'annotations.json'), 'utf8')) as {
  images: Entry[];
};
const every = Number(values.every);
const photos = annotations.images.filter((e, i) =>
  values.large ? e.width * e.height >= 4_000_000 : i % every === 0,
);

const config = defaultConfig();
const node = createNodeNestor(config, DEFAULT_MODELS_DIR);
const probe = new Uint8Array(await readFile(path.join(DEV, photos[0]!.file)));
const session = await openBrowserSession({
  nestor: node,
  config,
  probe,
  isolated: !values.plain,
  web: { codec: { quarterCopy: !values.halve }, config: { engine: { threads: Number(values.threads) } } },
});
await node.warmUp();
console.log(
  `browser: ${session.info.engine}, cross-origin isolated: ${session.info.crossOriginIsolated}, threads: ${session.info.threads}, quarter copy: ${!values.halve}`,
);
console.log('file\tsize\tnode ms\tweb ms\tnode n\tweb n\tmax Δpx\tagree');
const rows: { nodeMs: number; webMs: number; agree: boolean; delta: number; countsEqual: boolean }[] = [];
try {
  for (const photo of photos) {
    const bytes = new Uint8Array(await readFile(path.join(DEV, photo.file)));
    const a = await node.detect(bytes);
    const b = await session.detect(bytes);
    const diff = compareDetections(a, b, { tolerancePx: 2 });
    rows.push({
      nodeMs: a.timings.totalMs,
      webMs: b.timings.totalMs,
      agree: diff.agree,
      delta: diff.maxDeltaPx,
      countsEqual: diff.countA === diff.countB,
    });
    console.log(
      [
        path.basename(photo.file),
        `${photo.width}x${photo.height}`,
        a.timings.totalMs,
        b.timings.totalMs,
        diff.countA,
        diff.countB,
        diff.maxDeltaPx,
        diff.agree,
      ].join('\t'),
    );
  }
} finally {
  await session.close();
  await node.dispose();
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
console.log(
  `${rows.length} photos: ${rows.filter((r) => r.agree).length} agree within 2 px, ${rows.filter((r) => r.countsEqual).length} same count; ` +
    `max Δ ${Math.max(0, ...rows.map((r) => r.delta))} px; median total ms node ${median(rows.map((r) => r.nodeMs))}, web ${median(rows.map((r) => r.webMs))}`,
);
