// echo: the echo service of RFC 862 as a unikernel. It takes an address by DHCP from dom0's
// gateway (or the vif's ip=) and sends back whatever it is sent: every TCP connection to
// `port=` (7) byte for byte, with backpressure (a client that does not read its echo stops
// being read) and half-close (the client's FIN ends the echo, then ours follows), and every UDP
// datagram to the same port to its sender. Says `echo: listening on ADDRESS:PORT` once it
// listens.
import type { OS } from 'xenode';

function option(cmdline: string, key: string): string | undefined {
  return cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
}

export default async function main(os: OS): Promise<void> {
  const port = Number(option(os.cmdline, 'port') ?? 7);
  const stack = await os.tcpip();
  stack.tcp.listen(port, (conn) => {
    conn.setNoDelay(true);
    conn.on('error', () => {});
    // A Duplex piped into itself: pipe() pauses reading while the echo waits to be sent, and
    // ends our side once the client's FIN has been read.
    conn.pipe(conn);
  }, { backlog: 1024 });
  const udp = stack.udp.bind(port, (msg, from) => udp.send(msg, from.addr, from.port));
  console.log(`echo: listening on ${stack.address?.address}:${port}`);
  return new Promise<void>(() => {}); // until shut down
}
