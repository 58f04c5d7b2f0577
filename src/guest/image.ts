// Where the library OS image lives. The build links src/guest/bootstrap and everything it
// uses into one ES module, dist/guest.mjs (bin/link.js): a vCPU thread starts from it,
// and guest kernels that import 'xenode' link against that very module, so a guest and its
// runtime share one copy of every class.
export const GUEST_IMAGE = new URL('../../guest.mjs', import.meta.url);
