import { isIPv6 } from 'node:net';

/** Longest key kept for an address that is neither IPv4 nor IPv6 (it should never happen). */
const MAX_KEY_LENGTH = 64;

/**
 * The key under which a client address is counted: an IPv4 address as it is (an IPv4-mapped
 * IPv6 address as its IPv4), an IPv6 address as its /64 prefix. One subscriber, one host of a
 * cloud provider, usually holds a whole /64, so counting single IPv6 addresses would give an
 * attacker 2^64 fresh budgets.
 *
 * @example
 * clientKey('::ffff:203.0.113.7'); // '203.0.113.7'
 * clientKey('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(ip)) return ip.slice(0, MAX_KEY_LENGTH);
  const address = ip.split('%')[0] ?? ip;
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  let groups = headGroups;
  if (tail !== undefined) {
    const tailGroups = tail === '' ? [] : tail.split(':');
    // A trailing dotted IPv4 part stands for two groups.
    const tailLength = tailGroups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
    const zeros = Array.from({ length: 8 - headGroups.length - tailLength }, () => '0');
    groups = [...headGroups, ...zeros, ...tailGroups];
  }
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
