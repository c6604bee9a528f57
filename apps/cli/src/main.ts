import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type AnonymizeResult,
  type CallHooks,
  CallSteps,
  countFrames,
  type DetectionResult,
  FILE_EXTENSIONS,
  guardSteps,
  type ImageFormat,
  invalidOption,
  LABELS,
  type Label,
  type Nestor,
  NestorError,
  outputFormat,
  PRESETS,
  type ProcessOptions,
  parseProcessOptions,
  progressFraction,
  QUARTER_TURNS,
  type QuarterTurn,
  REDACTION_METHODS,
  sniffImageFormat,
  toNestorError,
} from '@nestor/core';
import { createNodeNestor, createSharpCodec, loadConfig } from '@nestor/engine-node';
import type { FramePipeline, VideoResult } from '@nestor/video';
import { Command, CommanderError, Option } from 'commander';
import { runBench } from './bench.ts';
import { dbCommand } from './db.ts';
import { runEval, runEvalFromPredictions } from './eval.ts';
import { expandInputs, type FailedInput, type InputFile } from './inputs.ts';
import { runMosaic } from './mosaic.ts';
import { checkTarget, identitiesOf, OutputPlan, writeOutput } from './outputs.ts';
import { localProcessor, type Processor, remoteProcessor } from './processor.ts';
import { Progress } from './progress.ts';
import { runTransform } from './transform.ts';
import { expectedVideoExtension, isVideoFile, processVideoFile } from './video.ts';
import { workerCommand } from './worker.ts';

/** Exit codes: documented in `nestor --help` and the README. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, fatal: 3, interrupted: 130 } as const;

/** A run that may be stopped: `signal` aborts on an interrupt; `release` ends the listening. */
export interface Interruption {
  readonly signal: AbortSignal;
  release(): void;
}

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly cwd: string;
  /** Taken by the commands that stop cleanly when interrupted (anonymize, detect); others keep the default. */
  readonly interruptible?: () => Interruption;
}

const defaultIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  interruptible: processInterruption,
});

/**
 * Ctrl-C (SIGINT) or SIGTERM stop a run between two steps: ffmpeg is stopped, no partial file is
 * left, what was done is reported. A second one ends the process at once (the one exit outside main).
 */
function processInterruption(): Interruption {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(new DOMException('Interrupted', 'AbortError'));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** Parsed command-line flags, as commander gives them. */
type Flags = Record<string, string | boolean | undefined>;

/** A command-line number checked against its range, refused in the one option-error format. */
function numberFrom(name: string, value: Flags[string], min: number, max: number): number {
  const n = Number(value);
  if (!(n >= min && n <= max)) throw invalidOption(name, `a number from ${min} to ${max}`, value);
  return n;
}

const isLabel = (value: string): value is Label => (LABELS as readonly string[]).includes(value);
const isTurn = (value: number): value is 0 | QuarterTurn =>
  value === 0 || (QUARTER_TURNS as readonly number[]).includes(value);
const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

const REGIONS_HELP =
  'JSON {"addRegions": […], "suppress": […]}: regions to cover whatever the detectors say, areas whose finds are dropped (in a video or an animation each may carry fromMs/toMs)';

/** Runs the CLI and resolves to its exit code (never calls process.exit, so it is testable). */
export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('nestor')
    .description('Find faces and licence plates in images and make them unreadable.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 all inputs done, 1 some inputs failed (each reported), 2 bad usage or config, 3 fatal (models, engine), 130 interrupted (Ctrl-C; no partial file left).\nConfig: nestor-ai-config.json (found from the working directory upward), overridden by flags.\n',
    );

  const common = (cmd: Command) =>
    cmd
      .option('-c, --config <file>', 'config file (default: nestor-ai-config.json found upward)')
      .addOption(new Option('--preset <name>', 'detection effort').choices(PRESETS))
      .option('--targets <list>', `comma-separated classes to find (${LABELS.join(', ')})`)
      .option('--face-threshold <score>', 'minimum face score (0-1)')
      .option('--plate-threshold <score>', 'minimum plate score (0-1)')
      .option('--iou <value>', 'IoU above which two boxes are one object (0-1)')
      .option('-q, --quiet', 'no progress bar');

  common(program.command('anonymize').alias('blur'))
    .description('write anonymized copies of images (files, folders recursively, globs)')
    .argument('<inputs...>', 'files, folders or globs')
    .option(
      '-o, --out <dir>',
      'output folder; the input tree is mirrored (default: beside each input as NAME.anonymized.EXT)',
    )
    .addOption(new Option('-m, --method <method>', 'redaction method').choices(REDACTION_METHODS))
    .option('-s, --strength <factor>', 'redaction strength relative to region size (default 1)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices([
        'same',
        'jpeg',
        'png',
        'webp',
        'avif',
        'tiff',
        'gif',
      ]),
    )
    .option('--quality <1-100>', 'output quality for lossy formats')
    .option('--keep-metadata', 'keep EXIF/XMP/ICC metadata (stripped by default)')
    .option('--overwrite', 'replace existing output files (inputs are never overwritten)')
    .option('--regions <file>', REGIONS_HELP)
    .option('--json', 'print {"results":[…]} on stdout: each file\'s output and detections, or its error')
    .option('--server <url>', 'send the images to a Nestor server instead of processing them here')
    .action(async (inputs: string[], flags: Flags) => {
      exitCode = await anonymizeCommand(inputs, flags, io);
    });

  common(program.command('detect'))
    .description('report faces and plates without changing anything')
    .argument('<inputs...>', 'files, folders or globs')
    .option('--json', 'print {"results":[…]} on stdout (nothing else goes to stdout)')
    .option('--regions <file>', REGIONS_HELP)
    .option('--server <url>', 'send the images to a Nestor server instead of processing them here')
    .action(async (inputs: string[], flags: Flags) => {
      exitCode = await detectCommand(inputs, flags, io);
    });

  common(program.command('eval'))
    .description(
      'score detection on a labelled set (annotations.json), with the metrics of shared/tools/eval.mjs',
    )
    .argument('<set-dir>', 'folder holding annotations.json and the images')
    .option('--min-side <px>', 'ignore ground-truth boxes whose short side is smaller', '10')
    .option('--predictions <file>', 'also write the predictions (eval.mjs format) to this file')
    .option('--from <file>', 'score these saved predictions (eval.mjs format) instead of detecting')
    .option(
      '--review <dir>',
      'write sheets of the false positives and misses (PNG, numbered tiles) and review.json to this folder',
    )
    .option('--json', 'print the metrics as JSON')
    .action(async (setDir: string, flags: Flags) => {
      const evalFlags = {
        setDir: path.resolve(io.cwd, setDir),
        minSide: str(flags.minSide) ?? '10',
        json: Boolean(flags.json),
        quiet: Boolean(flags.quiet),
        cwd: io.cwd,
        ...(str(flags.predictions) ? { predictions: str(flags.predictions)! } : {}),
        ...(str(flags.review) ? { review: str(flags.review)! } : {}),
      };
      const from = str(flags.from);
      if (from) {
        try {
          exitCode = await runEvalFromPredictions({ ...evalFlags, from }, io, createSharpCodec());
        } catch (error) {
          exitCode = reportFatal(error, io);
        }
        return;
      }
      exitCode = await withNestor(flags, io, (nestor, options) =>
        runEval(nestor, options, evalFlags, io, createSharpCodec()),
      );
    });

  common(program.command('bench'))
    .description(
      'time each stage on ~1, 3 and 12 MP photos and compare with JPEG decode+encode; videos at 720p and 1080p against a plain ffmpeg transcode',
    )
    .argument('[images...]', 'photos to use (default: one from ../shared/eval/dev, resized)')
    .option('--runs <n>', 'timed runs per size', '3')
    .addOption(
      new Option('--only <part>', 'only the photo or the video part, or animated GIFs').choices([
        'photos',
        'video',
        'animated',
      ]),
    )
    .option('--json', 'print the results as JSON')
    .action(async (images: string[], flags: Flags) => {
      exitCode = await withNestor(flags, io, (nestor, options) =>
        runBench(
          nestor,
          options,
          {
            images,
            runs: Number(flags.runs),
            json: Boolean(flags.json),
            cwd: io.cwd,
            ...(flags.only === 'photos' || flags.only === 'video' || flags.only === 'animated'
              ? { only: flags.only }
              : {}),
          },
          io,
        ),
      );
    });

  program
    .command('mosaic')
    .description(
      'paste the labelled photos of a set into large photos (12 MP by default) with their labels, for `nestor eval`: the same faces as a small part of a crowd shot',
    )
    .argument('<set-dir>', 'folder holding annotations.json and the images')
    .argument('<out-dir>', 'where the mosaics and their annotations.json go')
    .option('--scale <n>', 'scale each photo by this first (0.25-8)', '1')
    .option('--size <WxH>', 'size of each mosaic', '4000x3000')
    .option('--source <prefix>', "only photos whose source starts with this (e.g. 'marellanoc/MaskON')")
    .action(async (setDir: string, outDir: string, flags: Flags) => {
      try {
        const scale = numberFrom('--scale', flags.scale, 0.25, 8);
        const size = /^(\d+)x(\d+)$/.exec(str(flags.size) ?? '');
        const [width, height] = [Number(size?.[1]), Number(size?.[2])];
        if (!size || width < 64 || height < 64 || width * height > 100_000_000) {
          throw invalidOption('--size', 'WIDTHxHEIGHT, each side at least 64, at most 100 MP', flags.size);
        }
        exitCode = await runMosaic(
          {
            setDir: path.resolve(io.cwd, setDir),
            outDir: path.resolve(io.cwd, outDir),
            scale,
            width,
            height,
            ...(str(flags.source) ? { source: str(flags.source)! } : {}),
          },
          io,
          createSharpCodec(),
        );
      } catch (error) {
        exitCode = reportFatal(error, io);
      }
    });

  program
    .command('transform')
    .description(
      'write a labelled set darkened (grey level v -> 255 x gain x (v/255)^gamma) and/or turned, labels moved with it, for `nestor eval`: night, under-exposed and sideways photos',
    )
    .argument('<set-dir>', 'folder holding annotations.json and the images')
    .argument('<out-dir>', 'where the photos and their annotations.json go')
    .option('--gamma <n>', 'exponent, 1-5 (night: 3)', '1')
    .option('--gain <n>', 'gain, 0.05-1 (night: 0.4)', '1')
    .option('--turn <degrees>', 'clockwise quarter turn: 0, 90, 180 or 270', '0')
    .option('--label <class>', 'only photos with a label of this class (face, plate)')
    .action(async (setDir: string, outDir: string, flags: Flags) => {
      try {
        const gamma = numberFrom('--gamma', flags.gamma, 1, 5);
        const gain = numberFrom('--gain', flags.gain, 0.05, 1);
        const turn = Number(flags.turn);
        if (!isTurn(turn)) {
          throw invalidOption('--turn', '0, 90, 180 or 270', flags.turn);
        }
        const label = str(flags.label);
        if (label !== undefined && !isLabel(label))
          throw invalidOption('--label', "'face' or 'plate'", flags.label);
        exitCode = await runTransform(
          {
            setDir: path.resolve(io.cwd, setDir),
            outDir: path.resolve(io.cwd, outDir),
            gamma,
            gain,
            turn,
            ...(label ? { label } : {}),
          },
          io,
          createSharpCodec(),
        );
      } catch (error) {
        exitCode = reportFatal(error, io);
      }
    });

  program
    .command('worker')
    .description('run video and batch jobs queued in Redis (BullMQ) until stopped (needs redis.url)')
    .option('-c, --config <file>', 'config file (default: nestor-ai-config.json found upward)')
    .action(async (flags: Flags) => {
      try {
        exitCode = await workerCommand(str(flags.config), io.cwd, (line) => io.stderr.write(`${line}\n`));
      } catch (error) {
        exitCode = reportFatal(error, io);
      }
    });

  const db = program
    .command('db')
    .description('back up or restore the database (PGlite or PostgreSQL, from the config)');
  for (const action of ['backup', 'restore'] as const) {
    db.command(action)
      .description(
        action === 'backup'
          ? 'write every table to <file> (JSON lines; gzip when it ends in .gz)'
          : 'replace every row of the database with those of <file>, in one transaction',
      )
      .argument('<file>', 'backup file')
      .option('-c, --config <file>', 'config file (default: nestor-ai-config.json found upward)')
      .option('--yes', 'confirm that a restore replaces the current data')
      .action(async (file: string, flags: Flags) => {
        const interruption = io.interruptible?.();
        try {
          exitCode = await dbCommand(
            action,
            file,
            { config: str(flags.config), yes: flags.yes === true, cwd: io.cwd, signal: interruption?.signal },
            (line) => io.stderr.write(`${line}\n`),
          );
        } catch (error) {
          if (interruption?.signal.aborted) {
            io.stderr.write(
              action === 'backup'
                ? 'nestor db backup: interrupted: no backup written\n'
                : 'nestor db restore: interrupted: rolled back, the database is unchanged\n',
            );
            exitCode = EXIT.interrupted;
          } else exitCode = reportFatal(error, io);
        } finally {
          interruption?.release();
        }
      });
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportFatal(error, io);
  }
  return exitCode;
}

function reportFatal(error: unknown, io: Io): number {
  const e = toNestorError(error);
  io.stderr.write(`nestor: ${e.code}: ${e.message}\n`);
  if (e.code === 'E_INTERNAL' && e.cause) io.stderr.write(`${String((e.cause as Error).stack ?? e.cause)}\n`);
  return e.code === 'E_INVALID_OPTION' || e.code === 'E_INVALID_CONFIG' ? EXIT.usage : EXIT.fatal;
}

const REGIONS_FILE = 'a JSON file of {"addRegions": […], "suppress": […]}';

/**
 * `--regions FILE`: regions a person drew (`addRegions`) or dropped (`suppress`), as the API takes
 * them; in a video or an animation each may hold only from `fromMs` to `toMs`.
 */
async function regionsFrom(file: string | undefined, cwd: string): Promise<Record<string, unknown>> {
  if (file === undefined) return {};
  const text = await readFile(path.resolve(cwd, file), 'utf8').catch(() => {
    throw invalidOption('--regions', 'a file that can be read', file);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidOption('--regions', REGIONS_FILE, file);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidOption('--regions', REGIONS_FILE, file);
  }
  const { addRegions, suppress, ...other } = parsed as Record<string, unknown>;
  const unknown = Object.keys(other)[0];
  if (unknown !== undefined) throw invalidOption('--regions', 'only "addRegions" and "suppress"', unknown);
  return { addRegions, suppress };
}

/** Parses flags into request options (validated with the one message format). */
async function optionsFrom(flags: Flags, cwd: string): Promise<ProcessOptions> {
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  const raw: Record<string, unknown> = {
    preset: flags.preset,
    targets: typeof flags.targets === 'string' ? flags.targets.split(',').map((s) => s.trim()) : undefined,
    iouThreshold: num(flags.iou),
    method: flags.method,
    strength: num(flags.strength),
    format: flags.format,
    quality: num(flags.quality),
    keepMetadata: flags.keepMetadata === true ? true : undefined,
    ...(await regionsFrom(str(flags.regions), cwd)),
  };
  const minScore: Partial<Record<Label, number>> = {};
  if (flags.faceThreshold !== undefined) minScore.face = Number(flags.faceThreshold);
  if (flags.plateThreshold !== undefined) minScore.plate = Number(flags.plateThreshold);
  if (Object.keys(minScore).length > 0) raw.minScore = minScore;
  return parseProcessOptions(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
}

async function withNestor(
  flags: Flags,
  io: Io,
  body: (nestor: Nestor, options: ProcessOptions) => Promise<number>,
): Promise<number> {
  let nestor: Nestor | undefined;
  try {
    const options = await optionsFrom(flags, io.cwd);
    nestor = localNestor(flags, io, undefined);
    return await body(nestor, options);
  } catch (error) {
    return reportFatal(error, io);
  } finally {
    await nestor?.dispose();
  }
}

/** The local pipeline; once `signal` aborts, the image in progress stops before its next step. */
function localNestor(flags: Flags, io: Io, signal: AbortSignal | undefined): Nestor {
  const config = str(flags.config);
  const loaded = loadConfig({ ...(config ? { file: config } : {}), cwd: io.cwd });
  if (!signal) return createNodeNestor(loaded.config, loaded.modelsDir);
  const steps = new CallSteps(signal);
  return createNodeNestor(loaded.config, loaded.modelsDir, (parts) => guardSteps(parts, () => steps));
}

/** The local pipeline, or with `--server URL` a Nestor server; both stop when the run is interrupted. */
async function withProcessor(
  flags: Flags,
  io: Io,
  body: (processor: Processor, options: ProcessOptions, signal: AbortSignal | undefined) => Promise<number>,
): Promise<number> {
  let processor: Processor | undefined;
  const interruption = io.interruptible?.();
  const signal = interruption?.signal;
  try {
    const options = await optionsFrom(flags, io.cwd);
    const server = str(flags.server);
    processor = server ? remoteProcessor(server, signal) : localProcessor(localNestor(flags, io, signal));
    return await body(processor, options, signal);
  } catch (error) {
    return reportFatal(error, io);
  } finally {
    await processor?.dispose();
    interruption?.release();
  }
}

/** Errors that would fail every file alike: stop the batch instead. */
const FATAL_CODES = new Set([
  'E_MODEL_MISSING',
  'E_MODEL_LOAD',
  'E_MODEL_INTEGRITY',
  'E_INVALID_CONFIG',
  'E_NETWORK',
]);

interface FileOutcome {
  readonly file: InputFile | { given: string };
  readonly error?: NestorError;
}

/** Reads an input whole, after checking its size on disk so that an oversized one is never loaded. */
async function readInput(file: InputFile, maxBytes: number): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(file.absolute)).size;
  } catch (error) {
    throw new NestorError('E_INPUT_UNREADABLE', `Could not read ${file.given}`, { cause: error });
  }
  if (size > maxBytes) {
    throw new NestorError(
      'E_INPUT_TOO_LARGE',
      `The input has ${size} bytes, more than the limit of ${maxBytes}`,
    );
  }
  try {
    const bytes = await readFile(file.absolute);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw new NestorError('E_INPUT_UNREADABLE', `Could not read ${file.given}`, { cause: error });
  }
}

/**
 * The first `length` bytes of a file (32 tell its image format); undefined when it cannot be read.
 */
async function readHeader(file: InputFile, length = 32): Promise<Uint8Array | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file.absolute, 'r');
    const size = Math.min(length, (await handle.stat()).size);
    const { buffer, bytesRead } = await handle.read(new Uint8Array(size), 0, size, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    // The same file is read again to be processed, and fails then, reported with its code.
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** A run over the inputs: each file's outcome in order, and how many an interruption left undone. */
interface InputsRun {
  readonly outcomes: readonly FileOutcome[];
  readonly left?: number;
}

async function forEachInput(
  expanded: { files: readonly InputFile[]; failed: readonly FailedInput[] },
  io: Io,
  quiet: boolean,
  label: string,
  work: (file: InputFile, hooks: CallHooks) => Promise<void>,
  signal?: AbortSignal,
): Promise<InputsRun> {
  const { files, failed } = expanded;
  const outcomes: FileOutcome[] = failed.map((f) => ({ file: f, error: f.error }));
  let left: number | undefined;
  const progress = new Progress(io.stderr, files.length, label, !quiet && Boolean(io.stderr.isTTY));
  for (const [index, file] of files.entries()) {
    if (signal?.aborted) {
      left = files.length - index;
      break;
    }
    try {
      await work(file, { onProgress: (p) => progress.working(progressFraction(p), file.given) });
      outcomes.push({ file });
      progress.tick(true, file.given);
    } catch (error) {
      // Stopped on purpose: the file is not done, and not failed either.
      if (signal?.aborted) {
        left = files.length - index;
        break;
      }
      const e = toNestorError(error);
      if (FATAL_CODES.has(e.code)) throw e;
      outcomes.push({ file, error: e });
      progress.tick(false, file.given);
    }
  }
  progress.finish();
  return left === undefined ? { outcomes } : { outcomes, left };
}

function summarise({ outcomes, left }: InputsRun, io: Io, quiet: boolean, verb: string): number {
  const failed = outcomes.filter((o) => o.error);
  for (const o of failed) io.stderr.write(`nestor: ${o.file.given}: ${o.error!.code}: ${o.error!.message}\n`);
  const total = outcomes.length + (left ?? 0);
  if (!quiet)
    io.stderr.write(
      `${verb} ${outcomes.length - failed.length} of ${total} file(s)${failed.length ? `, ${failed.length} failed` : ''}\n`,
    );
  if (left !== undefined) {
    io.stderr.write(
      `nestor: interrupted: ${left} file(s) not done (the one in progress left nothing behind)\n`,
    );
    return EXIT.interrupted;
  }
  if (outcomes.length === 0) {
    io.stderr.write('nestor: no input images found\n');
    return EXIT.someFailed;
  }
  return failed.length > 0 ? EXIT.someFailed : EXIT.ok;
}

async function detectCommand(inputs: string[], flags: Flags, io: Io): Promise<number> {
  const quiet = Boolean(flags.quiet);
  return withProcessor(flags, io, async (nestor, options, signal) => {
    const results: (
      | ({ file: string } & DetectionResult)
      | ({ file: string } & VideoResult)
      | { file: string; error: { code: string; message: string } }
    )[] = [];
    const run = await forEachInput(
      await expandInputs(inputs, io.cwd),
      io,
      quiet || Boolean(flags.json && !io.stderr.isTTY),
      'detect',
      async (file, hooks) => {
        if (isVideoFile(file.absolute)) {
          const video = await processVideoFile(framesOf(nestor), file, options, undefined, {
            stderr: io.stderr,
            quiet,
            signal,
          });
          results.push({ file: file.given, ...video.result });
          if (!flags.json) io.stdout.write(`${file.given}: ${videoSummary(video.result)}\n`);
          return;
        }
        const result = await nestor.detect(await readInput(file, await nestor.maxBytes()), options, hooks);
        results.push({ file: file.given, ...result });
        if (!flags.json) {
          const counts = LABELS.map(
            (l) => `${result.counts[l]} ${l}${result.counts[l] === 1 ? '' : 's'}`,
          ).join(', ');
          io.stdout.write(`${file.given}: ${counts} (${result.timings.totalMs} ms)\n`);
        }
      },
      signal,
    );
    for (const o of run.outcomes) if (o.error) results.push({ file: o.file.given, error: o.error.toJSON() });
    if (flags.json) io.stdout.write(`${JSON.stringify(jsonReport(results, run))}\n`);
    return summarise(run, io, quiet || Boolean(flags.json), 'detected in');
  });
}

/** `--json`'s report: each file's result or error, and whether an interruption left files undone. */
function jsonReport<T>(results: T[], run: InputsRun): { results: T[]; interrupted?: true } {
  return run.left === undefined ? { results } : { results, interrupted: true };
}

/** Videos are decoded and redacted here: with `--server` only images are sent. */
function framesOf(processor: Processor): FramePipeline {
  if (!processor.frames) {
    throw new NestorError('E_INVALID_OPTION', 'Videos are processed locally; --server sends images only');
  }
  return processor.frames;
}

function videoSummary(r: VideoResult): string {
  const counts = LABELS.map((l) => `${r.counts[l]} ${l} track${r.counts[l] === 1 ? '' : 's'}`).join(', ');
  return `${r.video.frames} frames, ${counts}, ${r.timings.fps} fps (${(r.timings.totalMs / 1000).toFixed(1)} s)`;
}

/**
 * The output names of a run, decided before any work (see OutputPlan): images by their content's
 * format (sniffed from their first bytes), videos by their extension until ffprobe says.
 */
async function planOutputs(
  files: readonly InputFile[],
  outDir: string | undefined,
  format: 'same' | ImageFormat,
  maxBytes: number,
  io: Io,
  quiet: boolean,
): Promise<OutputPlan> {
  const plan = new OutputPlan(outDir, files);
  for (const file of files) {
    let extension: string | undefined;
    if (isVideoFile(file.absolute)) extension = expectedVideoExtension(file.absolute);
    else if (format !== 'same') extension = FILE_EXTENSIONS[format];
    else {
      const header = await readHeader(file);
      const sniffed = header && sniffImageFormat(header);
      // A GIF's frames may be anywhere in it: whether it animates (stays GIF) takes the whole file.
      const whole = sniffed === 'gif' ? await readHeader(file, maxBytes) : undefined;
      if (sniffed)
        extension =
          FILE_EXTENSIONS[outputFormat('same', sniffed, whole !== undefined && countFrames(whole) > 1)];
    }
    if (extension === undefined) continue;
    const { target, sharesWith } = plan.claim(file, extension);
    if (sharesWith && !quiet) {
      io.stderr.write(
        `nestor: ${file.given}: written as ${shown(target, io)} (${sharesWith.given} has the same output name)\n`,
      );
    }
  }
  return plan;
}

const shown = (file: string, io: Io) => path.relative(io.cwd, file) || file;

async function anonymizeCommand(inputs: string[], flags: Flags, io: Io): Promise<number> {
  const quiet = Boolean(flags.quiet);
  return withProcessor(flags, io, async (nestor, options, signal) => {
    const outDir = typeof flags.out === 'string' ? path.resolve(io.cwd, flags.out) : undefined;
    // Earlier outputs (NAME.anonymized.EXT, the -o folder) are not inputs of a re-run.
    const expanded = await expandInputs(inputs, io.cwd, {
      skipAnonymized: true,
      ...(outDir ? { skipFolder: outDir } : {}),
    });
    const rules = { inputs: identitiesOf(expanded.files), overwrite: Boolean(flags.overwrite) };
    const plan = await planOutputs(
      expanded.files,
      outDir,
      options.format ?? nestor.defaultFormat,
      await nestor.maxBytes(),
      io,
      quiet,
    );
    const results: (
      | ({ file: string; output: string } & (DetectionResult | VideoResult))
      | { file: string; error: { code: string; message: string } }
    )[] = [];
    const run = await forEachInput(
      expanded,
      io,
      quiet,
      'anonymize',
      async (file, hooks) => {
        if (isVideoFile(file.absolute)) {
          const video = await processVideoFile(
            framesOf(nestor),
            file,
            options,
            { pathFor: (extension) => plan.claim(file, extension).target, rules },
            { stderr: io.stderr, quiet, signal },
          );
          const output = video.output ?? '';
          results.push({ file: file.given, output: shown(output, io), ...video.result });
          if (!quiet) io.stderr.write(`${file.given}: ${videoSummary(video.result)}\n`);
          return;
        }
        // Refuse a taken output before the work, so that it costs nothing.
        const planned = plan.planned(file);
        if (planned) checkTarget(planned, rules);
        const out: AnonymizeResult = await nestor.anonymize(
          await readInput(file, await nestor.maxBytes()),
          options,
          hooks,
        );
        const { target } = plan.claim(file, FILE_EXTENSIONS[out.format]);
        await writeOutput(target, out.bytes, rules);
        results.push({ file: file.given, output: shown(target, io), ...out.result });
      },
      signal,
    );
    for (const o of run.outcomes) if (o.error) results.push({ file: o.file.given, error: o.error.toJSON() });
    if (flags.json) io.stdout.write(`${JSON.stringify(jsonReport(results, run))}\n`);
    return summarise(run, io, quiet, 'anonymized');
  });
}
