import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * zstd-codec's WASM streaming bindings as Node Transforms. Its own stream classes never free
 * their native context and share one 16 MiB heap per instance, so a few archives in one process
 * would exhaust it: each Transform here gets its own instance and frees its context at the end.
 */
interface StreamBinding {
  begin(level?: number): boolean;
  transform(chunk: Uint8Array, onOutput: (out: Uint8Array) => void): boolean;
  flush(onOutput: (out: Uint8Array) => void): boolean;
  end(onOutput: (out: Uint8Array) => void): boolean;
  delete(): void;
}

interface WasmModule {
  ZstdCompressStreamBinding: new () => StreamBinding;
  ZstdDecompressStreamBinding: new () => StreamBinding;
}

const require = createRequire(import.meta.url);

/** A fresh instance. The emscripten module has a then() of its own, so it travels wrapped. */
function loadModule(): Promise<{ module: WasmModule }> {
  const loader = require('zstd-codec/lib/module.js') as { run(onReady: (module: WasmModule) => void): void };
  return new Promise((resolve) => loader.run((module) => resolve({ module })));
}

/** Throws when the package is not installed. */
export function checkWasmZstdInstalled(): void {
  require.resolve('zstd-codec/lib/module.js');
}

class WasmZstdTransform extends Transform {
  private readonly ready: Promise<StreamBinding>;
  private binding: StreamBinding | undefined;
  private readonly pushOutput = (out: Uint8Array): void => {
    this.push(Buffer.from(out));
  };

  constructor(private readonly mode: 'compress' | 'decompress', level: number) {
    super();
    this.ready = loadModule().then(({ module }) => {
      const binding = mode === 'compress' ? new module.ZstdCompressStreamBinding() : new module.ZstdDecompressStreamBinding();
      if (!(mode === 'compress' ? binding.begin(level) : binding.begin())) throw new Error(`zstd-codec: cannot start a ${mode} stream`);
      this.binding = binding;
      return binding;
    });
  }

  private step(what: string, work: (binding: StreamBinding) => boolean, callback: TransformCallback): void {
    this.ready.then(
      (binding) => callback(work(binding) ? null : new Error(`zstd-codec: ${this.mode} ${what} failed`)),
      (err: unknown) => callback(err as Error),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.step('data', (b) => b.transform(chunk, this.pushOutput), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.step('end', (b) => (this.mode === 'compress' ? b.end(this.pushOutput) : b.flush(this.pushOutput) && b.end(this.pushOutput)), (err) => {
      this.release();
      callback(err);
    });
  }

  override _destroy(err: Error | null, callback: (error: Error | null) => void): void {
    this.release();
    callback(err);
  }

  private release(): void {
    this.binding?.delete();
    this.binding = undefined;
  }
}

export function wasmCompressor(level: number): Transform {
  return new WasmZstdTransform('compress', level);
}

export function wasmDecompressor(): Transform {
  return new WasmZstdTransform('decompress', 0);
}
