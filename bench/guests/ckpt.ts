// A guest for the save/restore benchmark: it fills most of its I/O memory with a pattern and
// hands over where it is at a suspend; resumed, it takes the pages back (os.io.reclaim) and
// checks them, so the benchmark measures a guest whose memory really travels.
import type { OS } from 'xenode';

interface State {
  readonly offset: number;
  readonly bytes: number;
  readonly sum: number;
}

function sumOf(b: Uint8Array): number {
  const w = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  let s = 0;
  for (let i = 0; i < w.length; i += 64) s = (s + w[i]!) >>> 0;
  return s;
}

export default async function main(os: OS): Promise<void> {
  const state = os.resumed as State | undefined;
  let pages: Uint8Array;
  if (state) {
    pages = os.io.reclaim(state.offset, state.bytes);
    await os.xenstore.write('data/ckpt', sumOf(pages) === state.sum ? 'intact' : 'corrupt');
  } else {
    const mb = Number(/mb=(\d+)/.exec(os.cmdline)?.[1] ?? '6');
    pages = os.io.alloc(mb * 2 ** 20);
    const w = new Uint32Array(pages.buffer, pages.byteOffset, pages.byteLength >> 2);
    for (let i = 0; i < w.length; i++) w[i] = (i * 2654435761) >>> 0;
    await os.xenstore.write('data/ckpt', 'filled');
  }
  const s: State = { offset: pages.byteOffset, bytes: pages.byteLength, sum: sumOf(pages) };
  os.lifecycle.onSuspend(() => s);
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
