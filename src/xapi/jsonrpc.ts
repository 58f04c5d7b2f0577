// The JSON writer of XenAPI's JSON-RPC replies. JSON has no datetime: XAPI sends them as strings
// in its own form; a float is a number. The bytes are JSON.stringify's, but a shared record
// (shared.ts) is written once and then copied as written.
import { joinPieces, writeRecord, type Pieces } from './shared.js';
import { Double, xapiDate, type XValue } from './types.js';

function members(v: { readonly [k: string]: XValue }, out: Pieces): void {
  let first = true;
  out.push('{');
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x === undefined) continue;
    out.push(`${first ? '' : ','}${JSON.stringify(k)}:`);
    json(x, out);
    first = false;
  }
  out.push('}');
}

function json(v: XValue | undefined, out: Pieces): void {
  if (typeof v === 'string' || typeof v === 'number') out.push(JSON.stringify(v));
  else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
  else if (v === null || v === undefined) out.push('null');
  else if (v instanceof Double) out.push(JSON.stringify(v.value));
  else if (v instanceof Date) out.push(`"${xapiDate(v)}"`);
  else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      json(v[i] as XValue, out);
    }
    out.push(']');
  } else writeRecord(v as { readonly [k: string]: XValue }, 'json', out, members);
}

/** One value as JSON, in UTF-8. */
export function encodeJson(v: XValue | undefined): Buffer {
  const out: Pieces = [];
  json(v, out);
  return joinPieces(out);
}
