import type { Hypercalls } from '../../hypervisor/hypercalls.js';
import type { UpcallLoop } from '../../hypervisor/upcall.js';
import type { IntroduceHook } from './transport.js';
/** The introduce hook of a xenstored that runs on dom0's hypercalls and upcall loop. */
export declare function mapGuestRing(hc: Hypercalls, loop: UpcallLoop): IntroduceHook;
