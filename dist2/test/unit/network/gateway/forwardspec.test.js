import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatForwardSpec, parseForwardSpec } from '../../../../src/network/gateway/forwardspec.js';
test('forward specs are parsed strictly and formatted back', () => {
    assert.deepEqual(parseForwardSpec('tcp:8080:80'), { proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 });
    assert.deepEqual(parseForwardSpec('udp:0.0.0.0:5353:53'), { proto: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 });
    assert.equal(formatForwardSpec(parseForwardSpec('TCP:8080:80')), 'tcp:8080:80');
    assert.equal(formatForwardSpec(parseForwardSpec('udp:0.0.0.0:5353:53')), 'udp:0.0.0.0:5353:53');
    for (const bad of ['', 'tcp', 'sctp:1:2', 'tcp:0:80', 'tcp:8080:65536', 'tcp:host:1:2', 'tcp:1:2:3:4', 'tcp:080a:80']) {
        assert.throws(() => parseForwardSpec(bad), /forward/, bad);
    }
});
//# sourceMappingURL=forwardspec.test.js.map