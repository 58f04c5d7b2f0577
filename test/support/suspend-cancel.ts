// A save that times out cancels its suspend request (Host.suspend writes '' to the guest's
// control/shutdown, as libxl does). Under load the guest may not have read the request by then:
// it reads '' and never acts on it, so a test of what a guest does with a request it refuses saw
// nothing (an empty console). Held here, the cancel waits until the guest has taken the request
// (it clears the node itself, as Linux does), bounded: the timeout stays the save's own.
import type { Host } from '../../src/toolstack/host.js';

/** Until the returned function is called, `host`'s cancel of a suspend request to `domid` waits (up to 60 s) for the guest to take it. */
export function cancelOnceTaken(host: Host, domid: number): () => void {
  const xs = host.xs;
  const path = `/local/domain/${domid}/control/shutdown`;
  const write = xs.write;
  xs.write = async (p: string, value: string | Uint8Array): Promise<void> => {
    if (p === path && value === '') await xs.wait(path, (v) => !v, { timeout: 60_000 }).catch(() => {});
    return write.call(xs, p, value);
  };
  return () => {
    xs.write = write;
  };
}
