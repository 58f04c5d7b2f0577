export default async function main(os) {
    const opt = (k) => os.cmdline.split(/\s+/).find((w) => w.startsWith(`${k}=`))?.slice(k.length + 1);
    const server = opt('server');
    if (!server)
        throw new Error('resolve needs server=ADDRESS');
    const stack = await os.tcpip({ dns: [server] });
    for (const name of (opt('names') ?? '').split(',').filter((n) => n !== '')) {
        try {
            console.log(`${name} -> ${(await stack.dns.resolve(name)).join(' ')}`);
        }
        catch (e) {
            console.log(`${name}: ${e.message}`);
        }
    }
}
//# sourceMappingURL=resolve.js.map