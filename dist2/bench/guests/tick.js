export default async function main(os) {
    const ticks = Number(/ticks=([0-9]+)/.exec(os.cmdline)?.[1] ?? 200);
    const late = [];
    for (let i = 0; i < ticks; i++) {
        const t0 = performance.now();
        await os.time.sleep(10);
        late.push(performance.now() - t0 - 10);
    }
    late.sort((a, b) => a - b);
    const at = (p) => late[Math.min(late.length - 1, Math.ceil((p / 100) * late.length) - 1)];
    await os.xenstore.write('data/tick/result', JSON.stringify({ median_ms: at(50), p99_ms: at(99), max_ms: late[late.length - 1] }));
    await os.lifecycle.awaitShutdownRequest();
    await os.shutdown('poweroff');
}
//# sourceMappingURL=tick.js.map