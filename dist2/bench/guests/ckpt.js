function sumOf(b) {
    const w = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
    let s = 0;
    for (let i = 0; i < w.length; i += 64)
        s = (s + w[i]) >>> 0;
    return s;
}
export default async function main(os) {
    const state = os.resumed;
    let pages;
    if (state) {
        pages = os.io.reclaim(state.offset, state.bytes);
        await os.xenstore.write('data/ckpt', sumOf(pages) === state.sum ? 'intact' : 'corrupt');
    }
    else {
        const mb = Number(/mb=(\d+)/.exec(os.cmdline)?.[1] ?? '6');
        pages = os.io.alloc(mb << 20);
        const w = new Uint32Array(pages.buffer, pages.byteOffset, pages.byteLength >> 2);
        for (let i = 0; i < w.length; i++)
            w[i] = (i * 2654435761) >>> 0;
        await os.xenstore.write('data/ckpt', 'filled');
    }
    const s = { offset: pages.byteOffset, bytes: pages.byteLength, sum: sumOf(pages) };
    os.lifecycle.onSuspend(() => s);
    await os.lifecycle.awaitShutdownRequest();
    await os.shutdown('poweroff');
}
//# sourceMappingURL=ckpt.js.map