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

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
}
