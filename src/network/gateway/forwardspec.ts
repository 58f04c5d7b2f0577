// Host port forward specs: PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT (QEMU's hostfwd, in the order
// `xenode network-forward` and the `forward = [ ... ]` config key spell it). 127.0.0.1 unless an
// address is given: a forward is reachable from other machines only when asked for.
import { isIPv4 } from 'node:net';
import { XenError } from '../../errors.js';

export type ForwardProto = 'tcp' | 'udp';

/** PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT, as `forward = [ ... ]` and `xenode network-forward` spell it. */
export interface ForwardSpec {
  readonly proto: ForwardProto;
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly guestPort: number;
}

export const FORWARD_DEFAULT_ADDRESS = '127.0.0.1';

export class ForwardSpecError extends XenError {
  override name = 'ForwardSpecError';
  constructor(readonly spec: string, readonly reason: string) {
    super('EINVAL', `forward '${spec.slice(0, 80)}': ${reason}`);
  }
}

function port(spec: string, s: string, what: string): number {
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw new ForwardSpecError(spec, `${what} must be a port number 1..65535, not '${s}'`);
  return Number(s);
}

export function parseForwardSpec(spec: string): ForwardSpec {
  const parts = spec.trim().split(':');
  const proto = parts[0]?.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') throw new ForwardSpecError(spec, "expected tcp:HOSTPORT:GUESTPORT or udp:..., optionally tcp:HOSTADDR:HOSTPORT:GUESTPORT");
  if (parts.length !== 3 && parts.length !== 4) throw new ForwardSpecError(spec, 'expected PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT');
  const hostAddress = parts.length === 4 ? parts[1]! : FORWARD_DEFAULT_ADDRESS;
  if (!isIPv4(hostAddress)) throw new ForwardSpecError(spec, `host address '${hostAddress}' is not an IPv4 address`);
  return { proto, hostAddress, hostPort: port(spec, parts.at(-2)!, 'the host port'), guestPort: port(spec, parts.at(-1)!, 'the guest port') };
}

/**
 * For forwards taken in order: the index of an earlier one on the same protocol, host address
 * and port (a second bind of it would fail), else undefined; each call records its own.
 */
export function forwardClashes(): (f: ForwardSpec, i: number) => number | undefined {
  const seen = new Map<string, number>();
  return (f, i) => {
    const k = `${f.proto}:${f.hostAddress}:${f.hostPort}`;
    const other = seen.get(k);
    if (other === undefined) seen.set(k, i);
    return other;
  };
}

export function formatForwardSpec(f: ForwardSpec): string {
  return `${f.proto}:${f.hostAddress === FORWARD_DEFAULT_ADDRESS ? '' : `${f.hostAddress}:`}${f.hostPort}:${f.guestPort}`;
}
