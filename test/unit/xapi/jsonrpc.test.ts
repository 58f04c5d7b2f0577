import assert from 'node:assert/strict';
import test from 'node:test';
import { encodeJson } from '../../../src/xapi/jsonrpc.js';
import { shareRecord } from '../../../src/xapi/shared.js';
import { Double, xapiDate, type XValue } from '../../../src/xapi/types.js';

/** What the JSON-RPC transport wrote before its own writer: JSON.stringify with datetimes in XAPI's form. */
const reference = (v: unknown) => JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
  return this[k] instanceof Date ? xapiDate(this[k] as Date) : x;
});

test('JSON replies are byte for byte what JSON.stringify writes, datetimes in XAPI form and floats as numbers', () => {
  const v = {
    jsonrpc: '2.0', id: 7,
    result: { s: 'a"b\\c\u0000é\ud83d\ude00', n: -0, big: 2 ** 60, f: new Double(1.5), nan: NaN, t: true, no: false, z: null, gone: undefined,
      d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), l: ['x', 1, [], {}], m: { 'k"': { deep: [new Double(2)] } } },
  } as unknown as XValue;
  assert.equal(encodeJson(v).toString(), reference(v));
  assert.equal(encodeJson([undefined] as unknown as XValue).toString(), '[null]');
  assert.equal(encodeJson('').toString(), '""');
});

test('a shared record is written once: later replies carry the form kept from the first', () => {
  const rec: Record<string, XValue> = { uuid: 'u', name_label: 'vm', VBDs: ['OpaqueRef:1'] };
  shareRecord(rec);
  const first = encodeJson({ result: rec, id: 1 }).toString();
  assert.equal(first, reference({ result: rec, id: 1 }));
  // Shared records are never changed in place: a change here shows that the kept form is what is sent.
  rec['name_label'] = 'changed';
  assert.equal(encodeJson({ result: rec, id: 2 }).toString(), first.replace('"id":1', '"id":2'));
  // Not shared: written each time.
  const own: Record<string, XValue> = { name_label: 'a' };
  encodeJson(own);
  own['name_label'] = 'b';
  assert.equal(encodeJson(own).toString(), '{"name_label":"b"}');
});
