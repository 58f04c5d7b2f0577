// Console viewers (`xenode console`, `create -c`, `run`): the guest's output on stdout and,
// for an interactive viewer, this terminal's keystrokes to the guest; Ctrl-] detaches, as in
// xl console. Several viewers may attach, one after another or at once.
import type { ConsoleSession, DomainRef, Toolstack } from '../toolstack/contract.js';

/** Ctrl-]: the byte xl console (and telnet) detach on. */
const DETACH_BYTE = 0x1d;

/** This terminal's input, sent to whichever console session is current, until Ctrl-]. */
export class Keyboard {
  #session: ConsoleSession | null = null;
  #raw: boolean;
  #detach!: () => void;
  /** Resolves when the user detaches. */
  readonly detached = new Promise<void>((resolve) => (this.#detach = resolve));
  readonly #onData = (chunk: Buffer) => {
    const at = chunk.indexOf(DETACH_BYTE);
    const data = at < 0 ? chunk : chunk.subarray(0, at);
    if (data.length) this.#session?.write(data);
    if (at >= 0) this.#detach();
  };

  constructor() {
    const stdin = process.stdin;
    // Raw, so keys (Ctrl-C included) reach the guest as bytes, as with a pty.
    this.#raw = stdin.isTTY === true;
    if (this.#raw) stdin.setRawMode(true);
    stdin.on('data', this.#onData);
    stdin.resume();
  }

  forwardTo(session: ConsoleSession | null): void {
    this.#session = session;
  }

  close(): void {
    process.stdin.off('data', this.#onData);
    if (this.#raw) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

export interface Viewer {
  readonly session: ConsoleSession;
  /** Resolves when the console ends (the domain went away). */
  readonly ended: Promise<void>;
}

/** Attach to a domain's console; its output goes to stdout. */
export async function view(ts: Toolstack, domain: DomainRef, opts: { replay?: boolean } = {}): Promise<Viewer> {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const session = await ts.console(domain, { onOutput: (data) => void process.stdout.write(data), onEnd: () => end() }, opts);
  return { session, ended };
}

/** `xenode console DOMAIN`: view and type until Ctrl-] or until the domain goes. */
export async function interactiveConsole(ts: Toolstack, domain: DomainRef): Promise<void> {
  const v = await view(ts, domain);
  const kb = new Keyboard();
  kb.forwardTo(v.session);
  try {
    await Promise.race([v.ended, kb.detached]);
  } finally {
    v.session.close();
    kb.close();
  }
}
