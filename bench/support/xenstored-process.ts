// xenode's xenstored alone in a process, as cxenstored runs in one, for bench/xenstore.ts:
// `node xenstored-process.js SOCKET` prints "ready" once it serves and runs until killed.
import { Xenstored } from '../../src/xenstore/server/daemon.js';

await new Xenstored().listen(process.argv[2]!);
process.stdout.write('ready\n');
