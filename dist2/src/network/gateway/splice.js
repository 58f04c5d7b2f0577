/** Splice `host` and `guest`; `onClosed` runs once, when both are closed. */
export function splice(host, guest, onClosed) {
    let open = 2;
    const closed = () => {
        if (--open === 0)
            onClosed();
    };
    host.once('close', closed);
    guest.once('close', closed);
    host.on('error', () => {
        if (!guest.destroyed)
            guest.reset();
    });
    guest.on('error', () => {
        if (!host.destroyed)
            host.resetAndDestroy();
    });
    // Both ended cleanly: nothing more will move.
    const ended = () => {
        if (host.readableEnded && guest.readableEnded && host.writableFinished && guest.writableFinished) {
            host.destroy();
            guest.destroy();
        }
    };
    for (const s of [host, guest]) {
        s.on('end', ended);
        s.on('finish', ended);
    }
    host.pipe(guest);
    guest.pipe(host);
    host.resume();
}
//# sourceMappingURL=splice.js.map