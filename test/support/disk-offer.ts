// The opening of a --with-disks disk connection as a sender writes it (its preamble with a
// token, then its length-prefixed offer), and the receiver's answer.
import type { Socket } from 'node:net';
import { ByteSource } from '../../src/migration/source.js';
import { DISK_AUTH_PREFIX, authLine } from '../../src/migration/wire.js';

export function offerBytes(tok: string, offer: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(offer));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([authLine(tok, DISK_AUTH_PREFIX), len, body]);
}

/** The answer to `offer` shown with `tok` on `sock`: its JSON, or { refused: true } for the receiver's refusal text. */
export async function offerOn(sock: Socket, tok: string, offer: unknown): Promise<{ src: ByteSource; answer: Record<string, unknown> }> {
  const src = new ByteSource(sock, { stallMs: 10_000 });
  sock.write(offerBytes(tok, offer));
  const head = await src.read(4, 'answer length');
  if (head.toString('latin1') === 'xeno') return { src, answer: { refused: true } };
  return { src, answer: JSON.parse((await src.read(head.readUInt32LE(0), 'answer')).toString()) as Record<string, unknown> };
}
