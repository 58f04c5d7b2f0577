// `xenode create` and `xenode run`: create a domain and, as asked, show its console (-c) and
// stay until it is finally gone (-F), following restarts, as xl create -F does. The exit
// status then says how the domain ended.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ShutdownReason } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { HostEvent, Toolstack } from '../toolstack/contract.js';
import { say } from './common.js';
import { Keyboard, view, type Viewer } from './console.js';

/** Exit statuses of `xenode run` and `xenode create -F` (documented in the user guide). */
export const RUN_EXIT: Record<ShutdownReason | 'destroyed', number> = {
  poweroff: 0,
  crash: 2,
  reboot: 3,
  suspend: 4,
  watchdog: 5,
  soft_reset: 6,
  destroyed: 130,
};

/** How long a guest gets to power off after Ctrl-C before it is destroyed. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface CreateOptions {
  /** -c: show the console (from the first byte: the domain is created paused until it is attached). */
  readonly console?: boolean;
  /** -p: leave the domain paused. */
  readonly paused?: boolean;
  /** -F: stay until the domain is gone for good; the exit status says how it ended. */
  readonly foreground?: boolean;
  /** The terminal types into the console and Ctrl-] detaches (create -c); otherwise Ctrl-C shuts the guest down (run). */
  readonly keyboard?: boolean;
  /** Only the guest's console: no notes. */
  readonly quiet?: boolean;
  /** xl create's trailing KEY=VALUE arguments: settings applied after the file's own. */
  readonly overrides?: readonly string[];
}

/** A KEY=VALUE (or KEY+=VALUE) argument, as xl create takes them after the file. */
const OVERRIDE = /^[A-Za-z_][A-Za-z0-9_]*\s*\+?=/;

/**
 * What create sends: the path alone, or with overrides the file's text and then each override
 * on a line of its own, so that xl.cfg's rule (the last assignment wins) applies them.
 */
async function createArgs(path: string, o: CreateOptions): Promise<{ file: string; text?: string }> {
  const extra = o.overrides ?? [];
  if (extra.length === 0) return { file: path };
  for (const v of extra) {
    if (!OVERRIDE.test(v) || v.includes('\n')) {
      throw new XenError('EINVAL', `create: '${v}' is not a KEY=VALUE setting (as in the configuration file, e.g. memory=64)`);
    }
  }
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EIO', `create: cannot read ${path}: ${e.message}`);
  });
  return { file: path, text: `${text}\n${extra.join('\n')}\n` };
}

function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`${w}\n`);
}

export async function createDomain(ts: Toolstack, file: string, o: CreateOptions): Promise<number> {
  const note = (line: string) => void (o.quiet || say(line));
  note(`Parsing config from ${file}`);
  const args = await createArgs(resolve(file), o);
  if (!o.console && !o.foreground) {
    printWarnings((await ts.call('create', { ...args, paused: o.paused === true })).warnings);
    return 0;
  }
  return o.foreground ? follow(ts, args, o, note) : attachAtBirth(ts, args, o);
}

/** create -c: the console from the first byte until it ends or the user detaches. */
async function attachAtBirth(ts: Toolstack, args: { file: string; text?: string }, o: CreateOptions): Promise<number> {
  const r = await ts.call('create', { ...args, paused: true });
  printWarnings(r.warnings);
  const v = await view(ts, r.domid);
  const kb = o.keyboard ? new Keyboard() : null;
  kb?.forwardTo(v.session);
  try {
    if (!o.paused) await ts.call('unpause', { domain: r.domid });
    await Promise.race([v.ended, kb?.detached ?? new Promise(() => {})]);
  } finally {
    v.session.close();
    kb?.close();
  }
  return 0;
}

/** create -F (and run): until the domain is gone for good, following restarts. */
async function follow(ts: Toolstack, args: { file: string; text?: string }, o: CreateOptions, note: (line: string) => void): Promise<number> {
  let domid = -1;
  let name = '';
  // Set by event handlers: typed with `as` so that flow analysis does not pin them to null.
  let outcome = null as ShutdownReason | 'destroyed' | null;
  let restarting = false;
  let viewer = null as Viewer | null;
  let kb: Keyboard | null = null;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const attach = async (id: number, replay: boolean) => {
    viewer?.session.close();
    // The domain may be gone again already; its output is in the host's log then.
    viewer = await view(ts, id, { replay }).catch(() => null);
    kb?.forwardTo(viewer?.session ?? null);
  };
  // Events can overtake the create's reply (they come on another connection): hold them until
  // we know which domain is ours.
  const early: HostEvent[] = [];
  const onEvent = (e: HostEvent) => {
    if (domid < 0) {
      early.push(e);
      return;
    }
    switch (e.type) {
      case 'shutdown': {
        if (e.domid !== domid) return;
        outcome = e.reason;
        restarting = e.taken === 'restart' || e.taken === 'rename-restart';
        if (e.taken === 'preserve') {
          note(`Domain ${domid} shut down (${e.reason}) and is preserved, as its configuration asks`);
          finish();
        }
        return;
      }
      case 'restarted':
        if (e.from !== domid) return;
        note(`Domain ${e.from} restarted as domain ${e.domid}`);
        domid = e.domid;
        outcome = null;
        restarting = false;
        // The new domain runs already: its console log holds what it printed so far.
        if (o.console) void attach(domid, true);
        return;
      case 'restart-failed':
        if (e.domid !== domid) return;
        note(`Domain ${domid} could not be restarted: ${e.error}`);
        finish();
        return;
      case 'destroyed':
        if (e.domid !== domid || restarting) return;
        outcome ??= 'destroyed';
        finish();
        return;
      default:
    }
  };
  const sub = await ts.events(onEvent, () => {
    note('The host went away');
    finish();
  });

  let interrupts = 0;
  const onSigint = () => {
    if (domid < 0) return;
    const target = domid;
    if (++interrupts === 1) {
      note(`\nShutting down domain ${target} (Ctrl-C again to destroy it)`);
      ts.call('shutdown', { domain: target }).catch(() => {});
      setTimeout(() => void ts.call('destroy', { domain: target }).catch(() => {}), SHUTDOWN_GRACE_MS).unref();
    } else {
      ts.call('destroy', { domain: target }).catch(() => {});
    }
  };
  let detached = false;
  try {
    const r = await ts.call('create', { ...args, paused: true });
    printWarnings(r.warnings);
    domid = r.domid;
    name = r.name;
    for (const e of early.splice(0)) onEvent(e);
    if (o.console) {
      await attach(domid, false);
      if (o.keyboard) {
        kb = new Keyboard();
        kb.forwardTo(viewer?.session ?? null);
        kb.detached.then(() => {
          detached = true;
          finish();
        }, () => {});
      }
    }
    if (!kb) process.on('SIGINT', onSigint);
    if (!o.paused) await ts.call('unpause', { domain: domid });
    await finished;
  } finally {
    process.off('SIGINT', onSigint);
    sub.close();
    viewer?.session.close();
    kb?.close();
  }
  if (detached) return 0;
  const how = outcome ?? 'destroyed';
  if (how === 'crash') say(`xenode: domain '${name}' crashed`);
  return RUN_EXIT[how];
}
