// Control-path hypercalls: the operations that change who may reach whom (binding and closing
// event channels, growing the grant table, connecting peers, shutting down). They are carried
// out by the hypervisor authority on dom0's thread; a domain's vCPU reaches it through a
// private MessagePort. Data-path hypercalls (send, unmask, map, unmap, copy) never come here.
import type { MessagePort } from 'node:worker_threads';
import { GrantError } from '../abi/grant_table.js';
import { XenError, type XenErrnoName } from '../errors.js';
import type { EvtchnStatus } from './evtchn.js';
import type { DomainBuffers } from './memory.js';
import type { ShutdownReason } from '../abi/xen.js';

export interface PeerGrant {
  readonly peer: DomainBuffers;
  /** The caller's maptrack, allocated the first time it is allowed to map anything. */
  readonly maptrack?: SharedArrayBuffer;
}

/** The control operations one domain may ask of the hypervisor, bound to that caller. */
export interface ControlPlane {
  allocUnbound(dom: number, remoteDom: number): number;
  bindInterdomain(remoteDom: number, remotePort: number): { port: number; peer?: PeerGrant };
  bindVirq(virq: number, vcpu: number): number;
  close(port: number): void;
  status(dom: number, port: number): EvtchnStatus;
  /** EVTCHNOP_init_control: the caller's vCPU switches to the FIFO ABI; returns link_bits. */
  initControl(controlGfn: number, offset: number, vcpu: number): number;
  /** EVTCHNOP_expand_array */
  expandArray(arrayGfn: number): void;
  /** EVTCHNOP_set_priority */
  setPriority(port: number, priority: number): void;
  setupTable(nrFrames: number): number;
  peer(domid: number): PeerGrant;
  /**
   * SCHEDOP_shutdown. With `suspend`, the guest names the frames of its suspend record (as a PV
   * guest passes its start_info frame), and the call returns only when the domain is resumed
   * in place (1, as Xen's cancelled suspend), never if it is destroyed; otherwise 0 at once.
   */
  shutdown(reason: ShutdownReason, recordPfn?: number, recordBytes?: number): number | Promise<number>;
}

export type ControlOp = keyof ControlPlane;
const OPS: ReadonlySet<string> = new Set<ControlOp>([
  'allocUnbound', 'bindInterdomain', 'bindVirq', 'close', 'status', 'initControl', 'expandArray', 'setPriority', 'setupTable',
  'peer', 'shutdown',
]);

/** How a vCPU calls the control plane: directly on dom0's thread, by message elsewhere. */
export interface ControlChannel {
  call<K extends ControlOp>(op: K, ...args: Parameters<ControlPlane[K]>): Promise<ReturnType<ControlPlane[K]>>;
}

export function directChannel(plane: ControlPlane): ControlChannel {
  return {
    call(op, ...args) {
      try {
        return Promise.resolve((plane[op] as (...a: unknown[]) => never)(...args));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}

interface Request { id: number; op: string; args: unknown[] }
type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; kind: 'xen'; errno: XenErrnoName; message: string }
  | { id: number; ok: false; kind: 'grant'; status: number; message: string };

/** The vCPU side: requests out, replies matched by id. */
export function portChannel(port: MessagePort): ControlChannel & { onPush(fn: (msg: unknown) => void): void } {
  let next = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let pushHandler: (msg: unknown) => void = () => {};
  port.on('message', (msg: Reply | { push: unknown }) => {
    if ('push' in msg) return pushHandler(msg.push);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else if (msg.kind === 'grant') p.reject(new GrantError(msg.status, msg.message));
    else p.reject(new XenError(msg.errno, msg.message));
  });
  return {
    call(op, ...args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        port.postMessage({ id, op, args } satisfies Request);
      });
    },
    onPush(fn) {
      pushHandler = fn;
    },
  };
}

const MAX_ARGS = 4;

function isScalarArg(a: unknown): boolean {
  return typeof a === 'number' || (typeof a === 'string' && a.length <= 64);
}

/**
 * Control operations a domain may ask per second, and in one burst. Each costs dom0's thread
 * a message and a reply; a domain that asks for more than any driver needs is flooding dom0.
 * A pCPU also holds each of its domains to the burst unanswered, before it posts (guest/pcpu.ts).
 */
export const CONTROL_RATE = 20_000;
export const CONTROL_BURST = 4_000;

/**
 * The authority side: serve one domain's control port. Anything malformed is refused. `clock`
 * is the bucket's time source; tests freeze it, since a loaded machine refills the bucket.
 */
export function serveControlPort(
  port: MessagePort,
  plane: ControlPlane,
  onFlood: () => void = () => {},
  clock: () => number = () => performance.now(),
): void {
  let tokens = CONTROL_BURST;
  let last = clock();
  let flooded = false;
  port.on('message', (msg: unknown) => {
    if (flooded) return;
    const now = clock();
    tokens = Math.min(CONTROL_BURST, tokens + ((now - last) * CONTROL_RATE) / 1000);
    last = now;
    if (--tokens < 0) {
      flooded = true;
      port.close();
      onFlood();
      return;
    }
    const req = msg as Partial<Request> | null;
    if (!req || typeof req.id !== 'number' || typeof req.op !== 'string' || !Array.isArray(req.args)) return;
    const { id, op, args } = req as Request;
    let reply: Reply;
    try {
      if (!OPS.has(op)) throw new XenError('ENOSYS', `unknown control operation ${op.slice(0, 64)}`);
      // Every operation takes a few numbers or a short string. Anything else is refused before
      // dom0's thread spends time on it (spreading a huge array, formatting a huge value).
      if (args.length > MAX_ARGS || !args.every(isScalarArg)) throw new XenError('EINVAL', `malformed arguments to ${op}`);
      const value = (plane[op as ControlOp] as (...a: unknown[]) => unknown)(...args);
      // Only a suspend answers later (when the domain is resumed): the vCPU waits in the call.
      if (value instanceof Promise) {
        value.then((v: unknown) => port.postMessage({ id, ok: true, value: v } satisfies Reply), (e: unknown) => port.postMessage(errorReply(id, e)));
        return;
      }
      reply = { id, ok: true, value };
    } catch (e) {
      reply = errorReply(id, e);
    }
    port.postMessage(reply);
  });
}

function errorReply(id: number, e: unknown): Reply {
  if (e instanceof GrantError) return { id, ok: false, kind: 'grant', status: e.status, message: e.detail };
  if (e instanceof XenError) return { id, ok: false, kind: 'xen', errno: e.errno, message: e.detail };
  return { id, ok: false, kind: 'xen', errno: 'EINVAL', message: String((e as Error)?.message ?? e) };
}
