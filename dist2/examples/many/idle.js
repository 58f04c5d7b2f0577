export default async function main(os) {
    await os.lifecycle.awaitShutdownRequest();
    await os.shutdown('poweroff');
}
//# sourceMappingURL=idle.js.map