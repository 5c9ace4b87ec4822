// The client-address check behind "never an open proxy", and the loopback rule for listen and
// target addresses.
import assert from 'node:assert/strict';
import { isLoopbackAddress, isUnspecifiedAddress } from '../../../../sidecar/extensions/header_bridge/addresses.ts';

describe('header_bridge addresses', () => {
  it('loopback: 127.0.0.0/8, ::1 in any spelling, IPv4-mapped 127/8', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::0001', '0::1', '::ffff:127.0.0.1', '::FFFF:127.1.2.3']) {
      assert.equal(isLoopbackAddress(a), true, a);
    }
  });

  it('not loopback: pod, node and metadata addresses, unspecified, names, junk', () => {
    for (const a of [undefined, '', '10.0.0.7', '0.0.0.0', '::', '169.254.169.254', '::ffff:10.0.0.1', '::2', '1::1', 'fe80::1', 'localhost', '127.0.0.1.nip.io', '128.0.0.1', '[::1]', '::1%lo']) {
      assert.equal(isLoopbackAddress(a), false, String(a));
    }
  });

  it('unspecified addresses', () => {
    assert.deepEqual(['0.0.0.0', '::', '[::]', '127.0.0.1'].map(isUnspecifiedAddress), [true, true, true, false]);
  });
});
