export default async function main(os) {
    console.log(`Hello from xenode! I am domain ${os.domid}, named '${os.name}'.`);
    const domid = await os.xenstore.read('domid');
    console.log(`xenstore says my domid is ${domid}; my uuid is ${os.uuid}.`);
    if (os.cmdline)
        console.log(`My command line: ${os.cmdline}`);
    const t0 = os.time.monotonic();
    await os.time.sleep(100);
    const slept = Number(os.time.monotonic() - t0) / 1e6;
    console.log(`Slept ${slept.toFixed(1)} ms on a timer. Powering off.`);
    await os.shutdown('poweroff');
}
//# sourceMappingURL=hello.js.map