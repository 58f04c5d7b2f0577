// xenode's xenstored alone in a process, as cxenstored runs in one, for bench/xenstore.ts:
// `node xenstored-process.js SOCKET` prints "ready" once it serves and runs until killed. On
// SIGUSR2 it prints its socket polling counts (poll-window.ts's pollCounts) as one JSON line.
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { pollCounts } from '../../src/xenstore/server/poll-window.js';

await new Xenstored().listen(process.argv[2]!);
process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify(pollCounts)}\n`));
process.stdout.write('ready\n');
