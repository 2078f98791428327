import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { StrataError, UsageError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { checkWasmZstdInstalled, wasmCompressor, wasmDecompressor } from './wasm-zstd.js';

/**
 * The zstd implementations an archive can be written and read with, fastest first: zstd-napi
 * (native libzstd), node:zlib's zstd (Node >= 22.15), and zstd-codec (WASM, the portable
 * fallback: levels up to 9 only, no truncation reporting, which the archive's own checks cover).
 * All write standard zstd frames, so each reads what the others write.
 */
export type CodecName = 'zstd-napi' | 'node-zlib' | 'zstd-codec';
export const CODEC_NAMES: readonly CodecName[] = ['zstd-napi', 'node-zlib', 'zstd-codec'];

export const MIN_LEVEL = 1;
/** Above 19 zstd's window grows to 128 MiB, which a reader would have to hold in memory. */
export const MAX_LEVEL = 19;
/**
 * Level 1: on Kubernetes-like JSON it compresses an etcd image to 0.34x against level 3's 0.32x
 * for about two thirds of the CPU, and compression is most of a save's CPU.
 */
export const DEFAULT_LEVEL = 1;

export interface ZstdCodec {
  readonly name: CodecName;
  readonly maxLevel: number;
  compressor(level: number): Transform;
  decompressor(): Transform;
}

const require = createRequire(import.meta.url);

type ZstdNapi = typeof import('zstd-napi');

interface ZlibWithZstd {
  createZstdCompress(options: { params: Record<number, number> }): Transform;
  createZstdDecompress(): Transform;
  constants: Record<string, number>;
}

/**
 * Up to level 9 libzstd compresses on its own thread, so the main thread parses and hashes
 * meanwhile (a 1 GiB etcd snapshot saved 10–25% faster on 2 cores). One worker, not two: level 1
 * took about 10% less CPU (2.13–2.15 s against 2.37–2.43 s for 512 MiB of archive), and eight
 * paired 1 GiB saves took 0.6 s less on average. Jobs of 1 MiB instead of the default four
 * windows keep the worker's buffers to a few MiB; the frames stay standard zstd.
 * Slower levels stay single-threaded: zstd-napi waits for a busy worker by spinning on the main
 * thread, which at level 19 starved the event loop for many seconds.
 */
const MAX_THREADED_LEVEL = 9;
const threads = (level: number): { nbWorkers?: number; jobSize?: number } => (level <= MAX_THREADED_LEVEL ? { nbWorkers: 1, jobSize: 1024 * 1024 } : {});

function napiCodec(): ZstdCodec | undefined {
  let napi: ZstdNapi;
  try {
    napi = require('zstd-napi') as ZstdNapi;
  } catch {
    return undefined;
  }
  return {
    name: 'zstd-napi',
    maxLevel: MAX_LEVEL,
    compressor: (level) => new napi.CompressStream({ compressionLevel: level, checksumFlag: true, ...threads(level) }),
    decompressor: () => new napi.DecompressStream(),
  };
}

function zlibCodec(): ZstdCodec | undefined {
  const z = zlib as unknown as Partial<ZlibWithZstd>;
  const { createZstdCompress, createZstdDecompress, constants } = z;
  if (createZstdCompress === undefined || createZstdDecompress === undefined || constants === undefined) return undefined;
  const levelParam = constants.ZSTD_c_compressionLevel;
  const checksumParam = constants.ZSTD_c_checksumFlag;
  if (levelParam === undefined || checksumParam === undefined) return undefined;
  return {
    name: 'node-zlib',
    maxLevel: MAX_LEVEL,
    compressor: (level) => createZstdCompress({ params: { [levelParam]: level, [checksumParam]: 1 } }),
    decompressor: () => createZstdDecompress(),
  };
}

function wasmCodec(): ZstdCodec | undefined {
  try {
    checkWasmZstdInstalled();
  } catch {
    return undefined;
  }
  return { name: 'zstd-codec', maxLevel: 9, compressor: wasmCompressor, decompressor: wasmDecompressor };
}

const loaders: Record<CodecName, () => ZstdCodec | undefined> = {
  'zstd-napi': napiCodec,
  'node-zlib': zlibCodec,
  'zstd-codec': wasmCodec,
};
const loaded = new Map<CodecName, ZstdCodec | undefined>();

function tryLoad(name: CodecName): ZstdCodec | undefined {
  if (!loaded.has(name)) loaded.set(name, loaders[name]());
  return loaded.get(name);
}

export function availableCodecs(): CodecName[] {
  return CODEC_NAMES.filter((name) => tryLoad(name) !== undefined);
}

export function parseCodecName(text: string): CodecName {
  if ((CODEC_NAMES as readonly string[]).includes(text)) return text as CodecName;
  throw new UsageError(`Unknown zstd codec '${text}': use one of ${CODEC_NAMES.join(', ')}`);
}

/**
 * The named codec, or the fastest one that loads. STRATA_ZSTD_CODEC names one for the whole
 * process (tests and benchmarks pin the fallback with it).
 */
export function loadZstdCodec(name?: CodecName): ZstdCodec {
  const envName = process.env.STRATA_ZSTD_CODEC;
  const wanted = name !== undefined ? parseCodecName(name) : envName ? parseCodecName(envName) : undefined;
  if (wanted !== undefined) {
    const codec = tryLoad(wanted);
    if (codec === undefined) {
      throw new StrataError('STRATA_CODEC_MISSING', `zstd codec '${wanted}' is not available here: available are ${availableCodecs().join(', ') || 'none'}`);
    }
    return codec;
  }
  for (const candidate of CODEC_NAMES) {
    const codec = tryLoad(candidate);
    if (codec !== undefined) return codec;
  }
  throw new StrataError('STRATA_CODEC_MISSING', 'No zstd codec loads: reinstall strata so that zstd-napi builds or zstd-codec is present');
}

/** The codec archives are written and read with by default, for display. */
export function codecName(): CodecName {
  return loadZstdCodec().name;
}

/** Checks a requested level and fits it to the codec, warning when it has to lower it. */
export function resolveLevel(codec: ZstdCodec, requested: number | undefined, logger: Logger): number {
  const level = requested ?? DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < MIN_LEVEL || level > MAX_LEVEL) {
    throw new UsageError(`Invalid --level ${level}: use a zstd level from ${MIN_LEVEL} to ${MAX_LEVEL}`);
  }
  if (level <= codec.maxLevel) return level;
  logger.warn(`zstd level ${level} lowered to ${codec.maxLevel}: the ${codec.name} codec aborts above it`, {
    codec: codec.name,
    requested: level,
    level: codec.maxLevel,
  });
  return codec.maxLevel;
}
