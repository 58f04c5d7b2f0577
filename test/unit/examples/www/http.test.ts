// The www example's HTTP/1.1 request parser: pipelined and split requests, keep-alive rules, and
// hostile input (oversized, malformed, smuggling-shaped) refused with the right status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, RequestParser, response } from '../../../../examples/www/http.js';
import { rng } from '../../../support/random.js';

const enc = (s: string) => new TextEncoder().encode(s);

function refuses(input: string | Uint8Array, status: number, parser = new RequestParser()): void {
  assert.throws(() => parser.push(typeof input === 'string' ? enc(input) : input), (e: unknown) => {
    assert.ok(e instanceof HttpError, String(e));
    assert.equal(e.status, status, `${e.status} ${e.message} for ${JSON.stringify(String(input).slice(0, 60))}`);
    return true;
  });
}

test('www http: requests split anywhere and pipelined come out whole, in order, with keep-alive as RFC 9112 says', () => {
  const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
    'GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /d HTTP/1.0\r\n\r\nGET /e HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n';
  const bytes = enc(text);
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const p = new RequestParser();
    const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
    assert.deepEqual(got.map((r) => [r.method, r.target, r.version, r.keepAlive, new TextDecoder().decode(r.body)]), [
      ['GET', '/', '1.1', true, ''], ['POST', '/x?y=1', '1.1', true, 'hello'], ['GET', '/c', '1.1', false, ''],
      ['GET', '/d', '1.0', false, ''], ['GET', '/e', '1.0', true, ''],
    ]);
    assert.equal(p.buffered, 0);
  }
  const [r] = new RequestParser().push(enc('\r\nGET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a:  2 \r\n\r\n'));
  assert.equal(r!.headers.get('x-a'), '1, 2');
});

test('www http: the parser keeps no view of a pushed chunk, as a copy-free reader needs (its bytes live only during the call)', () => {
  const p = new RequestParser();
  const first = enc('GET /a HTTP/1.1\r\nHo');
  assert.deepEqual(p.push(first), []);
  first.fill(0x58);
  const whole = enc('st: b\r\n\r\nPOST /p HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhelloGET /c');
  const got = p.push(whole);
  whole.fill(0x58);
  assert.deepEqual(got.map((r) => [r.method, r.target, r.headers.get('host'), new TextDecoder().decode(r.body)]), [['GET', '/a', 'b', ''], ['POST', '/p', 'b', 'hello']]);
  const [c] = p.push(enc(' HTTP/1.1\r\nHost: d\r\n\r\n'));
  assert.equal(c!.target, '/c');
  assert.equal(p.buffered, 0);
});

test('www http: hostile requests are refused with their status, and the parser stays failed', () => {
  refuses(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 431);
  refuses(`GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(70)}Host: a\r\n\r\n`, 431);
  refuses(`GET /${'a'.repeat(3000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
  refuses('GET / HTTP/1.1\r\n\r\n', 400); // no Host
  refuses('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
  refuses('GET /  HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  refuses('G\u0000T / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  refuses('GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  refuses('GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n', 400);
  refuses('GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400);
  refuses('GET / HTTP/1.1\nHost: a\r\n\r\n', 400);
  refuses('GET / HTTP/1.1\r\nHost: a\r\nX: a\u0001b\r\n\r\n', 400);
  refuses('GET / HTTP/1.1\r\nHost: a\r\nX: \u000bb\r\n\r\n', 400); // only SP and HTAB are OWS
  refuses('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400);
  refuses('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501);
  refuses('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 400);
  refuses('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400);
  refuses('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n', 413);
  const p = new RequestParser();
  refuses('BAD\r\n\r\n', 400, p);
  refuses('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 400, p);
  // A slow drip of header bytes with no end is cut off at the bound, not buffered forever.
  const drip = new RequestParser();
  assert.throws(() => {
    for (let i = 0; i < 10_000; i++) drip.push(enc('X'));
  }, (e: unknown) => e instanceof HttpError && e.status === 431);
});

test('www http: a bounded fuzz of mutated requests gives requests or an HttpError, nothing else', () => {
  const random = rng(13);
  const seed = enc('GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: y\r\n\r\n');
  for (let round = 0; round < 2000; round++) {
    const b = seed.slice();
    for (let k = 0; k < 1 + Math.floor(random() * 4); k++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
    const p = new RequestParser();
    try {
      for (const r of p.push(b)) assert.ok(r.body.length <= 64 * 1024 && r.target.startsWith('/') || r.target === '*');
    } catch (e) {
      assert.ok(e instanceof HttpError, `round ${round}: ${String(e)}`);
    }
  }
});

test('www http: responses carry Content-Length and the connection decision; HEAD has no body', () => {
  const r = new TextDecoder().decode(response(200, 'text/plain', enc('hi'), { keepAlive: false }));
  assert.equal(r, 'HTTP/1.1 200 OK\r\nServer: xenode-www\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
  const h = new TextDecoder().decode(response(404, 'text/plain', enc('nope'), { keepAlive: true, head: true }));
  assert.match(h, /^HTTP\/1\.1 404 Not Found\r\n.*Content-Length: 4\r\nConnection: keep-alive\r\n\r\n$/s);
});
