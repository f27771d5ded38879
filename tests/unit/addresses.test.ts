import { addressBucket, normalizeAddress, parseCidr, parseNetwork, touchesLoopback, TrustedProxies } from '../../hub-service/src/network/addresses';

describe('addresses and networks', () => {
  test('addresses are compared in one form', () => {
    expect(normalizeAddress(' [2001:DB8::1]:443 ')).toBe('2001:db8::1');
    expect(normalizeAddress('203.0.113.7:5000')).toBe('203.0.113.7');
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeAddress('example.org')).toBeNull();
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('2001:db8::/129')).toBeNull();
    expect(parseCidr('10.0.0.0/8/1')).toBeNull();
    expect(() => new TrustedProxies(['nginx'])).toThrow(/not a network: nginx/);
  });

  test('throttles count an IPv6 client by its /64', () => {
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('local-uid-2001')).toBe('local-uid-2001');
  });

  test('mail API networks in CIDR form; any holding a loopback address can never be trusted', () => {
    for (const bad of ['10.1.2.3', '999.1.1.1/8', '10.0.0.0/33', 'fd00::/129', 'host/24', '']) expect(parseNetwork(bad)).toBeNull();
    const loopback = ['127.0.0.0/8', '127.1.2.3/32', '0.0.0.0/0', '64.0.0.0/2', '::/0', '::1/128', '::ffff:127.0.0.1/128', '::ffff:0:0/96'];
    for (const text of loopback) expect([text, touchesLoopback(parseNetwork(text)!)]).toEqual([text, true]);
    for (const text of ['10.0.0.0/8', '126.0.0.0/8', '128.0.0.0/1', 'fd00::/64', '::ffff:10.0.0.0/104'])
      expect([text, touchesLoopback(parseNetwork(text)!)]).toEqual([text, false]);
  });
});
