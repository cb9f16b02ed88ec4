/**
 * Loading compiled kernels and managing the caller-owned arena in their memory.
 *
 * Each kernel module (build/<name>.wasm) is compiled synchronously once per thread and instantiated
 * once; its linear memory above `arenaBase()` belongs to the host. An {@link Arena} hands out
 * aligned regions there, grows the memory when needed and is reset before every call. Typed-array
 * views must be (re)created after any growth, so callers take views only after all allocations.
 */
import { readFileSync } from 'node:fs';
import { wasmPath } from '../paths.js';

export interface KernelInstance {
  readonly name: string;
  readonly exports: Record<string, unknown>;
  readonly memory: WebAssembly.Memory;
  readonly arena: Arena;
}

const instances = new Map<string, KernelInstance>();

/** The instantiated kernel module `name` (build/<name>.wasm), created on first use in this thread. */
export function loadKernel(name: string): KernelInstance {
  const cached = instances.get(name);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(wasmPath(name));
  } catch (e) {
    throw new Error(`fracflow: kernel ${name}: cannot read ${wasmPath(name)} (run \`npm run build\`): ${(e as Error).message}`);
  }
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`fracflow: kernel ${name} aborted at ${line}:${col}`);
      },
    },
  });
  const exports = instance.exports as Record<string, unknown>;
  const memory = exports['memory'] as WebAssembly.Memory;
  const base = (exports['arenaBase'] as () => number)();
  const k: KernelInstance = { name, exports, memory, arena: new Arena(memory, base) };
  instances.set(name, k);
  return k;
}

/** Bump allocator over a kernel's linear memory, above the module's static data. */
export class Arena {
  private top: number;
  private viewBuffer: ArrayBuffer | null = null;
  private f64All = new Float64Array(0);
  private i32All = new Int32Array(0);

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base: number,
  ) {
    this.top = base;
  }

  /** Forget every allocation (buffers handed out before are invalid afterwards). */
  reset(): void {
    this.top = this.base;
  }

  /** A region of `bytes` bytes aligned to 16; grows the memory when it does not fit. */
  alloc(bytes: number): number {
    const ptr = (this.top + 15) & ~15;
    const end = ptr + Math.max(0, bytes);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / 65536);
      try {
        this.memory.grow(pages);
      } catch {
        throw new RangeError(`fracflow: kernel memory cannot grow to ${end} bytes (WebAssembly 32-bit limit is 4 GiB)`);
      }
    }
    this.top = end;
    return ptr;
  }

  /** Whole-memory views, re-made only when the memory has grown (its buffer is then a new object). */
  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf !== this.viewBuffer) {
      this.viewBuffer = buf;
      this.f64All = new Float64Array(buf);
      this.i32All = new Int32Array(buf);
    }
  }

  /** A view of `length` f64 at byte offset `ptr` (stale after the next growth). */
  f64(ptr: number, length: number): Float64Array {
    this.refresh();
    return this.f64All.subarray(ptr >>> 3, (ptr >>> 3) + length);
  }

  /** A view of `length` i32 at byte offset `ptr` (stale after the next growth). */
  i32(ptr: number, length: number): Int32Array {
    this.refresh();
    return this.i32All.subarray(ptr >>> 2, (ptr >>> 2) + length);
  }

  /** Copy `src` into memory at byte offset `ptr` (8-byte aligned). */
  writeF64(ptr: number, src: ArrayLike<number>): void {
    this.refresh();
    this.f64All.set(src, ptr >>> 3);
  }

  /** A copy (own memory) of `length` f64 at `ptr`. */
  copyF64(ptr: number, length: number): Float64Array {
    this.refresh();
    return this.f64All.slice(ptr >>> 3, (ptr >>> 3) + length);
  }

  /** A copy (own memory) of `length` i32 at `ptr`. */
  copyI32(ptr: number, length: number): Int32Array {
    this.refresh();
    return this.i32All.slice(ptr >>> 2, (ptr >>> 2) + length);
  }
}
