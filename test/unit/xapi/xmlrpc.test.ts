// XML-RPC as XAPI writes it (bare strings, int64 as strings, <double> for floats, no
// whitespace) and as clients send it (<string>, <int>, <i4>, <boolean>, structs, arrays).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XapiError } from '../../../src/xapi/errors.js';
import { shareRecord } from '../../../src/xapi/shared.js';
import { Double, type XValue } from '../../../src/xapi/types.js';
import { XmlRpcParseError, decodeMethodCall, encodeResponse, encodeValue } from '../../../src/xapi/xmlrpc.js';

test('a methodCall of every supported type decodes', () => {
  const xml = '<?xml version="1.0"?><methodCall><methodName>VM.x</methodName><params>' +
    '<param><value>bare</value></param><param><value><string>a &amp; b</string></value></param>' +
    '<param><value><int>-3</int></value></param><param><value><i4>4</i4></value></param><param><value><double>60.1</double></value></param>' +
    '<param><value><boolean>1</boolean></value></param><param><value><array><data><value>x</value><value><i4>1</i4></value></data></array></value></param>' +
    '<param><value><struct><member><name>k</name><value><boolean>0</boolean></value></member></struct></value></param>' +
    '<param><value></value></param></params></methodCall>';
  const c = decodeMethodCall(xml);
  assert.equal(c.method, 'VM.x');
  assert.deepEqual(c.params, ['bare', 'a & b', -3, 4, 60.1, true, ['x', 1], Object.assign(Object.create(null), { k: false }), '']);
});

test('what is not XML-RPC is a parse error', () => {
  for (const bad of ['<methodCall/>', '<x/>', '<methodCall><methodName>m</methodName><params><param><value><base64>AA==</base64></value></param></params></methodCall>',
    '<methodCall><methodName>m</methodName><params><param><value><int>1.5</int></value></param></params></methodCall>',
    '<methodCall><methodName>m</methodName><params><param><value><boolean>yes</boolean></value></param></params></methodCall>',
    '<?xml-stylesheet href="x"?><methodCall><methodName>m</methodName></methodCall>']) {
    assert.throws(() => decodeMethodCall(bad), XmlRpcParseError, bad);
  }
});

test('responses carry the Status envelope, int64 as strings, floats as doubles, dates in XAPI form', () => {
  const ok = encodeResponse({ ok: true, value: { n: 2 ** 40, f: new Double(1), s: 'a<b', e: '', d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), t: true, l: [] } });
  assert.equal(ok.toString(), '<?xml version="1.0"?><methodResponse><params><param><value><struct>' +
    '<member><name>Status</name><value>Success</value></member><member><name>Value</name><value><struct>' +
    '<member><name>n</name><value>1099511627776</value></member><member><name>f</name><value><double>1</double></value></member>' +
    '<member><name>s</name><value>a&lt;b</value></member><member><name>e</name><value/></member>' +
    '<member><name>d</name><value><dateTime.iso8601>20260102T03:04:05Z</dateTime.iso8601></value></member>' +
    '<member><name>t</name><value><boolean>1</boolean></value></member><member><name>l</name><value><array><data></data></array></value></member>' +
    '</struct></value></member></struct></value></param></params></methodResponse>');
  const fail = encodeResponse({ ok: false, error: new XapiError('HANDLE_INVALID', ['VM', 'OpaqueRef:x']) }).toString();
  assert.ok(fail.includes('<name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name><value><array><data><value>HANDLE_INVALID</value><value>VM</value><value>OpaqueRef:x</value></data></array></value>'));
  assert.equal(encodeValue('OpaqueRef:1'), '<value>OpaqueRef:1</value>');
  // Characters XML cannot carry are replaced, not sent raw.
  assert.ok(!encodeValue('a\u0000b').includes('\u0000'));
});

test('a shared record is written once: later responses carry the XML kept from the first', () => {
  const rec: Record<string, XValue> = { uuid: 'u', name_label: 'a&b' };
  shareRecord(rec);
  const first = encodeResponse({ ok: true, value: { r: rec } }).toString();
  assert.ok(first.includes('<member><name>name_label</name><value>a&amp;b</value></member>'));
  rec['name_label'] = 'changed';
  assert.equal(encodeResponse({ ok: true, value: { r: rec } }).toString(), first);
  assert.equal(encodeValue(rec), '<value><struct><member><name>uuid</name><value>u</value></member><member><name>name_label</name><value>a&amp;b</value></member></struct></value>');
});
