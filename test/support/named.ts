// A refusal of storage/named.ts: a NamedFileError of that errno, its message matching.
import assert from 'node:assert/strict';
import { NamedFileError } from '../../src/storage/named.js';

export async function refusedNamed(p: Promise<unknown>, errno: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NamedFileError, String(e));
    assert.equal(e.errno, errno, e.message);
    assert.match(e.message, message);
    return true;
  });
}
