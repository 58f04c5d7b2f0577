export default async function main(os) {
    await os.xenstore.write('data/spin/started', '1');
    for (;;)
        ;
}
//# sourceMappingURL=spin.js.map