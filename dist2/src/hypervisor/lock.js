// A mutex in shared memory, for the places where Xen takes a lock that several vCPUs (here:
// threads) contend for. Critical sections are a few loads and stores, so spin briefly before
// sleeping; Node allows Atomics.wait on the main thread too.
const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;
const SPINS = 100;
export function lock(words, index) {
    let c = Atomics.compareExchange(words, index, UNLOCKED, LOCKED);
    if (c === UNLOCKED)
        return;
    for (let i = 0; i < SPINS && c !== UNLOCKED; i++) {
        c = Atomics.compareExchange(words, index, UNLOCKED, LOCKED);
        if (c === UNLOCKED)
            return;
    }
    // Drepper's mutex: mark contended so the owner knows to wake us.
    if (c !== CONTENDED)
        c = Atomics.exchange(words, index, CONTENDED);
    while (c !== UNLOCKED) {
        Atomics.wait(words, index, CONTENDED);
        c = Atomics.exchange(words, index, CONTENDED);
    }
}
export function unlock(words, index) {
    if (Atomics.exchange(words, index, UNLOCKED) === CONTENDED)
        Atomics.notify(words, index, 1);
}
//# sourceMappingURL=lock.js.map