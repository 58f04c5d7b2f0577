// Where the library OS image lives. The build links src/guest/bootstrap and everything it
// uses into one ES module, dist/guest.mjs (bin/link.js): a vCPU thread starts from it,
// and guest kernels that import 'xenode' link against that very module, so a guest and its
// runtime share one copy of every class.
export const GUEST_IMAGE = new URL('../../guest.mjs', import.meta.url);
// A shared cpupool's pCPU thread runs guest/pcpu.js, and its realms the library OS linked once
// more as a script (dist/realm.js). Both paths hold from the linked CLI too (bin/link.js).
export const PCPU_IMAGE = new URL('../../src/guest/pcpu.js', import.meta.url);
export const REALM_IMAGE = new URL('../../realm.js', import.meta.url);
//# sourceMappingURL=image.js.map