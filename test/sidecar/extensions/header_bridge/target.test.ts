// Request-target parsing (RFC 9112 §3.2): absolute form for the forward proxy, authority form for
// CONNECT, origin form for reverse listeners. Paths pass byte for byte.
import assert from 'node:assert/strict';
import { originPath, parseAbsoluteTarget, parseConnectTarget } from '../../../../sidecar/extensions/header_bridge/target.ts';

describe('header_bridge request targets', () => {
  it('absolute form: host, default port 80, path and query unchanged (no dot-segment or percent normalisation)', () => {
    assert.deepEqual(parseAbsoluteTarget('http://api.internal/a/../b%2f?q=%20x'), { host: 'api.internal', port: 80, path: '/a/../b%2f?q=%20x', authority: 'api.internal' });
    assert.deepEqual(parseAbsoluteTarget('HTTP://10.0.0.7:8080'), { host: '10.0.0.7', port: 8080, path: '/', authority: '10.0.0.7:8080' });
    assert.deepEqual(parseAbsoluteTarget('http://[::1]:9000?x'), { host: '::1', port: 9000, path: '/?x', authority: '[::1]:9000' });
    assert.deepEqual(parseAbsoluteTarget('http://user:pw@h:81/p#frag'), { host: 'h', port: 81, path: '/p', authority: 'h:81' });
  });

  it('absolute form: refuses origin form, https:// and bad authorities with a reason', () => {
    assert.match((parseAbsoluteTarget('/path') as { error: string }).error, /forward proxy/);
    assert.match((parseAbsoluteTarget('https://h/') as { error: string }).error, /CONNECT/);
    for (const bad of ['http://h:0/', 'http://h:70000/', 'http://:80/', 'http://h h/', 'ftp://h/']) assert.ok('error' in parseAbsoluteTarget(bad), bad);
  });

  it('CONNECT authority form: host and port required', () => {
    assert.deepEqual(parseConnectTarget('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(parseConnectTarget('[2001:db8::1]:8443'), { host: '2001:db8::1', port: 8443 });
    assert.ok('error' in parseConnectTarget('example.com'));
    assert.ok('error' in parseConnectTarget('/x'));
  });

  it('origin form for reverse listeners; an absolute target keeps only its path', () => {
    assert.equal(originPath('/a?b'), '/a?b');
    assert.equal(originPath('*'), '*');
    assert.equal(originPath('http://h:1/x?y'), '/x?y');
    assert.equal(originPath('http://h:1?y'), '/?y');
  });
});
