export default async function main(os) {
    void os;
    for (;;) {
        const end = performance.now() + 2;
        while (performance.now() < end)
            ;
        await new Promise((r) => setImmediate(r));
    }
}
//# sourceMappingURL=busy.js.map