import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ipaddr from 'ipaddr.js';
import { formatAddress, parseAddress } from '../../runtime/net/address.js';
import { decodeClientId, encodeClientId, gatewayAddressOf } from '../../runtime/wire/client-id.js';

const MAX_U32 = 2 ** 32 - 1;

describe('client id, IPv4 (GatewayWorker layout)', () => {
  // GatewayWorker: bin2hex(pack('NnN', ip2long($lanIp), $internalPort, $connectionId)).
  // ip2long('10.0.0.5') = 0x0a000005, 2900 = 0x0b54, connection 1 = 0x00000001.
  it('matches a hand-computed GatewayWorker id', () => {
    assert.equal(encodeClientId({ host: '10.0.0.5', port: 2900, connection: 1 }), '0a000005' + '0b54' + '00000001');
    // 192.168.1.20 = c0a80114, 65535 = ffff, 2^32-1 = ffffffff
    assert.equal(encodeClientId({ host: '192.168.1.20', port: 65535, connection: MAX_U32 }), 'c0a80114' + 'ffff' + 'ffffffff');
    assert.equal(encodeClientId({ host: '0.0.0.0', port: 0, connection: 0 }), '0'.repeat(20));
  });

  it('decodes a hand-written GatewayWorker id', () => {
    assert.deepEqual(decodeClientId('7f0000010b5400000abc'), { host: '127.0.0.1', port: 2900, connection: 0xabc });
    assert.equal(gatewayAddressOf('7f0000010b5400000abc'), '127.0.0.1:2900');
  });

  for (const [port, connection] of [
    [0, 0],
    [1, 1],
    [65535, MAX_U32],
    [2900, 2 ** 31],
    [65535, 0],
    [0, MAX_U32],
  ] as const) {
    it(`round-trips port ${port}, connection ${connection}`, () => {
      const parts = { host: '172.16.254.3', port, connection };
      const id = encodeClientId(parts);
      assert.match(id, /^[0-9a-f]{20}$/);
      assert.deepEqual(decodeClientId(id), parts);
      assert.equal(gatewayAddressOf(id), `172.16.254.3:${port}`);
    });
  }

  it('wraps a connection number past 2^32-1 as pack("N") does', () => {
    assert.equal(encodeClientId({ host: '10.0.0.5', port: 2900, connection: 2 ** 32 }), encodeClientId({ host: '10.0.0.5', port: 2900, connection: 0 }));
  });

  it('refuses a host that is not an IP address and a port out of range', () => {
    assert.throws(() => encodeClientId({ host: 'gateway-0.example', port: 2900, connection: 1 }), /needs an IP address/);
    assert.throws(() => encodeClientId({ host: '', port: 2900, connection: 1 }));
    assert.throws(() => encodeClientId({ host: '10.0.0.5', port: 65536, connection: 1 }));
    assert.throws(() => encodeClientId({ host: '10.0.0.5', port: -1, connection: 1 }));
  });
});

describe('client id, IPv6', () => {
  const cases: Array<{ input: string; canonical: string }> = [
    { input: '2001:0db8:0000:0000:0000:0000:0000:0001', canonical: '2001:db8::1' },
    { input: '2001:db8:85a3:8d3:1319:8a2e:370:7348', canonical: '2001:db8:85a3:8d3:1319:8a2e:370:7348' },
    { input: 'fd00::5', canonical: 'fd00::5' },
    { input: '::1', canonical: '::1' },
    { input: '::', canonical: '::' },
  ];
  for (const { input, canonical } of cases) {
    it(`round-trips ${input}`, () => {
      const id = encodeClientId({ host: input, port: 2900, connection: 42 });
      assert.match(id, /^[0-9a-f]{44}$/);
      assert.deepEqual(decodeClientId(id), { host: canonical, port: 2900, connection: 42 });
      assert.equal(gatewayAddressOf(id), `[${canonical}]:2900`);
      assert.deepEqual(parseAddress(gatewayAddressOf(id)!), { host: canonical, port: 2900 });
    });
  }

  it('lays out an IPv6 id as 16 address bytes, port, connection', () => {
    assert.equal(encodeClientId({ host: '::1', port: 0x0b54, connection: 0x01020304 }), '0'.repeat(30) + '01' + '0b54' + '01020304');
  });

  it('keeps an IPv4-mapped address as the same 16-byte address', () => {
    const id = encodeClientId({ host: '::ffff:10.0.0.5', port: 65535, connection: MAX_U32 });
    assert.equal(id, '0'.repeat(20) + 'ffff' + '0a000005' + 'ffff' + 'ffffffff');
    const parts = decodeClientId(id)!;
    assert.deepEqual(ipaddr.parse(parts.host).toByteArray(), ipaddr.parse('::ffff:10.0.0.5').toByteArray());
    assert.equal(parts.port, 65535);
    assert.equal(parts.connection, MAX_U32);
    const address = parseAddress(gatewayAddressOf(id)!);
    assert.equal(address.port, 65535);
    assert.deepEqual(ipaddr.parse(address.host).toByteArray(), ipaddr.parse('::ffff:10.0.0.5').toByteArray());
  });
});

describe('client id, malformed', () => {
  const valid4 = encodeClientId({ host: '10.9.8.7', port: 2900, connection: 77 });
  const valid6 = encodeClientId({ host: 'fd00::7', port: 2900, connection: 77 });
  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['19 characters', valid4.slice(1)],
    ['21 characters', valid4 + '0'],
    ['43 characters', valid6.slice(1)],
    ['45 characters', valid6 + '0'],
    ['32 characters (an IPv6 address with no port or connection)', valid6.slice(0, 32)],
    ['upper case', valid4.toUpperCase()],
    ['one upper-case digit', valid4.slice(0, -1) + 'D'],
    ['non-hex characters', valid4.slice(0, -8) + 'zzzzzzzz'],
    ['a space', valid4.slice(0, -1) + ' '],
    ['a sign', '-' + valid4.slice(1)],
    ['IPv6 id with non-hex', valid6.slice(0, -1) + 'g'],
  ];

  // The valid ids go through gatewayAddressOf first so its cache holds their gateway part.
  it('valid ids resolve (and prime the address cache)', () => {
    assert.equal(gatewayAddressOf(valid4), '10.9.8.7:2900');
    assert.equal(gatewayAddressOf(valid6), '[fd00::7]:2900');
  });

  for (const [what, id] of malformed) {
    it(`rejects ${what}`, () => {
      assert.equal(decodeClientId(id), undefined);
      assert.equal(gatewayAddressOf(id), undefined);
    });
  }
});

describe('formatAddress / parseAddress', () => {
  it('brackets IPv6 only', () => {
    assert.equal(formatAddress('10.0.0.5', 2900), '10.0.0.5:2900');
    assert.equal(formatAddress('fd00::5', 2900), '[fd00::5]:2900');
    assert.equal(formatAddress('::1', 1), '[::1]:1');
    assert.equal(formatAddress('register.default.svc', 1236), 'register.default.svc:1236');
  });

  for (const [address, expected] of [
    ['10.0.0.5:2900', { host: '10.0.0.5', port: 2900 }],
    ['register.default.svc.cluster.local:1236', { host: 'register.default.svc.cluster.local', port: 1236 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['[fd00::5]:65535', { host: 'fd00::5', port: 65535 }],
    ['[::1]:2900', { host: '::1', port: 2900 }],
  ] as const) {
    it(`parses ${address}`, () => {
      assert.deepEqual(parseAddress(address), expected);
      assert.equal(formatAddress(expected.host, expected.port), address);
    });
  }

  for (const bad of [
    '',
    'host',
    'host:',
    ':2900',
    '10.0.0.5',
    '10.0.0.5:abc',
    '10.0.0.5:-1',
    '10.0.0.5:0',
    '10.0.0.5:65536',
    '10.0.0.5:99999999999',
    '10.0.0.5:2900:1',
    'fd00::5:2900',
    '[fd00::5]',
    '[fd00::5]:',
    '[]:2900',
    '[fd00::5:2900',
    'fd00::5]:2900',
  ]) {
    it(`rejects ${JSON.stringify(bad)} with a message quoting it`, () => {
      assert.throws(
        () => parseAddress(bad),
        (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(bad)),
      );
    });
  }
});
