// What a domain wrote to its console's out ring, read from its memory: what it wrote even when
// no event brought it to dom0 (a crashed domain's last turn), or before dom0's daemon took it.
import { XENCONS_OUT, XENCONS_OUT_SIZE, XenconsInterface } from '../../src/abi/console.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import { PFN_CONSOLE } from '../../src/hypervisor/layout.js';

/** The last XENCONS_OUT_SIZE bytes the domain wrote, as latin1. */
export function consoleRing(memory: SharedArrayBuffer): string {
  const page = new Uint8Array(memory, PFN_CONSOLE * PAGE_SIZE, PAGE_SIZE);
  const prod = new XenconsInterface(page).outProd;
  const out: number[] = [];
  for (let i = Math.max(0, prod - XENCONS_OUT_SIZE); i < prod; i++) out.push(page[XENCONS_OUT + (i % XENCONS_OUT_SIZE)]!);
  return Buffer.from(out).toString('latin1');
}
