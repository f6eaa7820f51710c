/** What a session's User-Agent says, in words for the account page: "Chrome 131 on Linux". */

import Bowser from 'bowser';

export interface DeviceDescription {
  browser: string;
  os: string;
}

function major(version: string | undefined): string {
  const first = version?.split('.')[0];
  return first !== undefined && /^\d{1,4}$/.test(first) ? ` ${first}` : '';
}

/**
 * Parses a stored User-Agent with bowser (MIT). The result is only ever rendered through the
 * templates, which escape it.
 *
 * @example
 * describeUserAgent('Mozilla/5.0 (X11; Linux x86_64) … Chrome/131.0.0.0 Safari/537.36');
 * // { browser: 'Chrome 131', os: 'Linux' }
 */
export function describeUserAgent(userAgent: string | null): DeviceDescription {
  if (userAgent === null || userAgent.trim() === '')
    return { browser: 'Unknown browser', os: 'unknown system' };
  const parsed = Bowser.parse(userAgent);
  const browser = parsed.browser.name
    ? `${parsed.browser.name}${major(parsed.browser.version)}`
    : 'Unknown browser';
  const os = parsed.os.name
    ? `${parsed.os.name}${parsed.os.versionName ? ` ${parsed.os.versionName}` : ''}`
    : 'unknown system';
  return { browser: browser.slice(0, 80), os: os.slice(0, 80) };
}
