import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { checkInt16, checkUint } from '../../../src/abi/fields.js';

test('checkUint takes exactly the integers that fit the width', () => {
  for (const [bits, max] of [[8, 0xff], [16, 0xffff], [32, 0xffffffff]] as const) {
    for (const v of [0, -0, 1, max]) assert.equal(checkUint('f', v, bits), v);
    for (const v of [-1, max + 1, 0.5, max - 0.5, NaN, Infinity, -Infinity, 2 ** 32, 2 ** 53]) {
      assert.throws(() => checkUint('f', v, bits), (e: unknown) => isXenError(e, 'EINVAL'), `${v} as uint${bits}`);
    }
  }
});

test('checkInt16 takes exactly the integers in [-32768, 32767]', () => {
  for (const v of [0, -1, 1, -0x8000, 0x7fff]) assert.equal(checkInt16('f', v), v);
  for (const v of [-0x8001, 0x8000, 0xffff, 0.5, -1.5, NaN, Infinity, 2 ** 32 - 1, 2 ** 40]) {
    assert.throws(() => checkInt16('f', v), (e: unknown) => isXenError(e, 'EINVAL'), `${v} as int16`);
  }
});
