// A kernel linked as a script (toolstack/kernel.ts kernelScript) on a vCPU thread of its own:
// compiled from V8's code cache the host made once per image, by a parked shell before its
// claim where it can be (bootstrap.ts), so that a claim only runs it. An ES module cannot be
// compiled without running its top level, nor from a code cache, on Node 20 without flags.
import type { SourceMap } from 'node:module';
import vm from 'node:vm';
import type { KernelScript } from '../hypervisor/vcpu.js';
import { KERNEL_SCRIPT_PREFIX, wrapKernelScript } from './kernel-wrap.js';

type KernelModule = { default?: unknown };
type ModuleBody = (exports: object, require: (id: string) => unknown, module: object) => void;
const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// node:module (createRequire, SourceMap) when a kernel requires a file or a package, or crashes:
// not at every thread's start, where it brought Node's ES module loader and source maps with it.
// Node's own modules, all most kernels require, come from process.getBuiltinModule.
const nodeModule = () => process.getBuiltinModule('node:module');
// node:url at a crash too: a fresh thread's load of it cost 0.24 ms (issue 17, cold16).
const fileURLToPath = (url: string) => process.getBuiltinModule('node:url').fileURLToPath(url);

export class CompiledKernel {
  readonly url: string;
  readonly #code: string;
  readonly #script: vm.Script;
  /**
   * The module body as a function, evaluated with the script (which only makes the function:
   * no kernel code runs), by a parked shell ahead of its claim, which then only calls it.
   */
  readonly #body: ModuleBody;
  /** The kernel's `require` of what is not one of Node's modules (made at its first use: rare). */
  #require: NodeJS.Require | undefined;
  #map: SourceMap | null | undefined;

  constructor(src: KernelScript) {
    this.url = src.url;
    this.#code = src.code;
    this.#script = new vm.Script(wrapKernelScript(src.code), { filename: src.url, cachedData: src.cachedData });
    this.#body = this.#script.runInThisContext() as ModuleBody;
  }

  /** V8 refused the code cache (another V8 or other flags) and compiled the source instead. */
  get cacheRejected(): boolean {
    return this.#script.cachedDataRejected === true;
  }

  /** Run the module body: its top level runs now; the module's exports come back. */
  run(library: object): KernelModule {
    const require = (id: string): unknown =>
      id === 'xenode' ? library : (process.getBuiltinModule(id) ?? (this.#require ??= nodeModule().createRequire(this.url))(id));
    const module = { exports: {} as KernelModule };
    const body = this.#body; // called bare: a crash's frame of the top level is the module's, not this class's
    body(module.exports, require, module);
    return module.exports;
  }

  /**
   * A stack trace with this image's frames named by the guest's sources (Node maps the source
   * maps of modules it loads, not of scripts). The map is read on the first crash only.
   */
  mapStack(text: string): string {
    if (this.#map === undefined) {
      const m = INLINE_MAP.exec(this.#code);
      try {
        this.#map = m ? new (nodeModule().SourceMap)(JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'))) : null;
      } catch {
        this.#map = null;
      }
    }
    const map = this.#map;
    if (!map) return text;
    return text.replace(new RegExp(`${escape(this.url)}:(\\d+):(\\d+)`, 'g'), (frame, l: string, c: string) => {
      const line = Number(l) - 1;
      const column = Number(c) - 1 - (line === 0 ? KERNEL_SCRIPT_PREFIX.length : 0);
      const e = map.findEntry(line, column) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (e.originalSource === undefined) return frame;
      // A path, as Node names an imported module's mapped frames.
      const source = e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : e.originalSource;
      return `${source}:${e.originalLine! + 1}:${e.originalColumn! + 1}`;
    });
  }
}
