export default async function main(os) {
    const state = os.resumed;
    const args = (k, d) => Number(new RegExp(`${k}=(\\d+)`).exec(os.cmdline)?.[1] ?? d);
    const pages = state ? os.io.reclaim(state.offset, state.bytes) : os.io.alloc(args('mb', 8) << 20);
    const w = new Uint32Array(pages.buffer, pages.byteOffset, pages.byteLength >> 2);
    if (!state)
        for (let i = 0; i < w.length; i++)
            w[i] = (i * 2654435761) >>> 0;
    os.lifecycle.onSuspend(() => ({ offset: pages.byteOffset, bytes: pages.byteLength }));
    await os.xenstore.write('data/dirty', state ? 'resumed' : 'filled');
    const rate = args('rate', 0);
    const n = pages.byteLength >> 12;
    let seed = 1;
    for (;;) {
        for (let i = 0; i < rate; i++) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            w[((seed % n) << 10) + (i & 1023)] = seed;
        }
        await os.time.sleep(10);
    }
}
//# sourceMappingURL=dirty.js.map