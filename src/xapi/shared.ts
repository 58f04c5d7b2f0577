// Served records are shared by every call that returns them and never changed in place (the
// service's cache keeps them until the database changes): each one's wire forms (its JSON and
// its XML-RPC <value>, as UTF-8 bytes) are written the first time it is served and kept with
// it, so serving it again costs a lookup and a copy, not an encoding. A record not marked shared
// is written each time.
const forms = new WeakMap<object, { json?: Buffer; xml?: Buffer }>();

/** Mark `rec` as shared and never changed in place from now on: its wire forms may be kept. */
export function shareRecord<T extends object>(rec: T): T {
  if (!forms.has(rec)) forms.set(rec, {});
  return rec;
}

/** Pieces of a reply, text and kept forms, in order. */
export type Pieces = (string | Buffer)[];

/** Write `rec` in its wire form `kind` into `out` with `write`: once only if it is shared, then its kept form. */
export function writeRecord<T extends object>(rec: T, kind: 'json' | 'xml', out: Pieces, write: (rec: T, out: Pieces) => void): void {
  const f = forms.get(rec);
  if (!f) {
    write(rec, out);
    return;
  }
  let kept = f[kind];
  if (!kept) {
    const own: Pieces = [];
    write(rec, own);
    f[kind] = kept = joinPieces(own);
  }
  out.push(kept);
}

/** The reply's bytes: the pieces end to end. */
export function joinPieces(pieces: Pieces): Buffer {
  const bufs: Buffer[] = [];
  let text = '';
  for (const p of pieces) {
    if (typeof p === 'string') text += p;
    else {
      if (text) bufs.push(Buffer.from(text));
      bufs.push(p);
      text = '';
    }
  }
  if (text || !bufs.length) bufs.push(Buffer.from(text));
  return bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
}
