/**
 * `clientKey` (`src/throttle/client-key.ts`) on the IPv6 spellings `test/unit/client-key.test.ts`
 * leaves out: a `::` that stands for a single group, a zone id with a dot, an IPv4 tail that is
 * not the mapped prefix, and values that are not addresses at all.
 */
import { describe, expect, it } from 'vitest';
import { clientKey } from '../../src/throttle/client-key.js';

describe('clientKey', () => {
  it('expands a "::" that stands for one group before taking the /64', () => {
    expect(clientKey('2001:db8::3:4:5:6:7')).toBe('2001:db8:0:3::/64');
    expect(clientKey('::1:2:3:4:5:6:7')).toBe('0:1:2:3::/64');
    expect(clientKey('2001:db8::3:4:5:6:7')).not.toBe(clientKey('2001:db8::4:5:6:7'));
  });

  it('ignores a zone id whatever it holds, a dotted interface name included', () => {
    expect(clientKey('fe80:1:2::3:4:5:6%en0.1')).toBe('fe80:1:2:0::/64');
    expect(clientKey('fe80:1:2::3:4:5:6%en0.1')).toBe(clientKey('fe80:1:2::3:4:5:6'));
  });

  it('unwraps only the IPv4-mapped prefix ::ffff:0:0/96, not another IPv6 address ending in an IPv4', () => {
    expect(clientKey('2001:db8::ffff:192.0.2.1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('counts a value that is not an address as itself, never as some IPv4 address', () => {
    expect(clientKey('::ffff:192.0.2.1234')).toBe('::ffff:192.0.2.1234');
    expect(clientKey('unknown')).toBe('unknown');
  });
});
