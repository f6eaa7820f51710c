/**
 * Reads (never verifies) a JWT's header and claims, for display: the server verifies tokens;
 * the browser only shows what it holds and when it expires.
 */

export interface DecodedJWT {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  try {
    const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** @example decodeJWT(accessToken)?.claims.exp; // seconds since the epoch */
export function decodeJWT(token: string): DecodedJWT | null {
  const [header, claims] = token.split('.');
  if (header === undefined || claims === undefined) return null;
  const decodedHeader = decodeSegment(header);
  const decodedClaims = decodeSegment(claims);
  return decodedHeader === null || decodedClaims === null
    ? null
    : { header: decodedHeader, claims: decodedClaims };
}
