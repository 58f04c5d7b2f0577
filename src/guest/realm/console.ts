// node:console inside a realm: the library OS makes its PV console a Console over a stream
// (os.ts), and node's own Console is an object of the host thread's realm, which a realm must
// not hold. This one formats as util.format does for the common cases.
interface Sink {
  write(chunk: string): unknown;
}

function inspect(v: unknown, depth = 0): string {
  if (typeof v === 'string') return depth === 0 ? v : JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return `[Function: ${v.name || '(anonymous)'}]`;
  if (typeof v !== 'object' || v === null) return String(v);
  if (v instanceof Error) return v.stack ?? `${v.name}: ${v.message}`;
  if (depth > 2) return Array.isArray(v) ? '[Array]' : '[Object]';
  if (Array.isArray(v)) return `[ ${v.map((x) => inspect(x, depth + 1)).join(', ')} ]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  const entries = Object.entries(v).map(([k, x]) => `${k}: ${inspect(x, depth + 1)}`);
  return entries.length ? `{ ${entries.join(', ')} }` : '{}';
}

export function format(...args: unknown[]): string {
  let i = 0;
  let out = '';
  if (typeof args[0] === 'string') {
    const fmt = args[0];
    i = 1;
    out = fmt.replace(/%[sdifjoO%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case '%d': case '%i': return String(m === '%i' ? Math.trunc(Number(a)) : Number(a));
        case '%f': return String(Number(a));
        case '%j': return JSON.stringify(a);
        case '%s': return typeof a === 'string' ? a : inspect(a, 1);
        default: return inspect(a, 1);
      }
    });
  }
  for (; i < args.length; i++) out += (out ? ' ' : '') + inspect(args[i]);
  return out;
}

export class Console {
  #out: Sink;
  #err: Sink;
  constructor(opts: { stdout: Sink; stderr?: Sink }) {
    this.#out = opts.stdout;
    this.#err = opts.stderr ?? opts.stdout;
  }
  log(...a: unknown[]): void {
    this.#out.write(`${format(...a)}\n`);
  }
  info(...a: unknown[]): void {
    this.log(...a);
  }
  debug(...a: unknown[]): void {
    this.log(...a);
  }
  error(...a: unknown[]): void {
    this.#err.write(`${format(...a)}\n`);
  }
  warn(...a: unknown[]): void {
    this.error(...a);
  }
  trace(...a: unknown[]): void {
    this.error(new Error(format(...a)).stack);
  }
  dir(v: unknown): void {
    this.log(inspect(v, 1));
  }
}
