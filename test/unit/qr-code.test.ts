/**
 * The QR matrix of the TOTP set-up page: a real QR code (size 17 + 4 × version, the three finder
 * patterns and the timing patterns where ISO/IEC 18004 puts them), big enough for an otpauth URI
 * with a long email, and refusing text its byte conversion would corrupt.
 */

import { describe, expect, it } from 'vitest';
import { qrMatrix } from '../../src/http/pages/qr-code.js';

const URI =
  'otpauth://totp/auth.example.com:ada%40example.com?secret=WLDFV5Z777Y4YOO4X2X2IUCTJ47WIFIQ&issuer=auth.example.com&algorithm=SHA1&digits=6&period=30';

/** The 7×7 finder pattern: a dark ring, a light ring, a dark 3×3 core. */
function isFinder(matrix: boolean[][], top: number, left: number): boolean {
  for (let r = 0; r < 7; r++) {
    for (let c = 0; c < 7; c++) {
      const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
      if (matrix[top + r]?.[left + c] !== (ring !== 2)) return false;
    }
  }
  return true;
}

describe('qrMatrix', () => {
  it('makes a square QR code with its finder and timing patterns', () => {
    const matrix = qrMatrix(URI);
    const size = matrix.length;
    expect((size - 17) % 4).toBe(0);
    expect(matrix.every((row) => row.length === size)).toBe(true);
    expect(isFinder(matrix, 0, 0)).toBe(true);
    expect(isFinder(matrix, 0, size - 7)).toBe(true);
    expect(isFinder(matrix, size - 7, 0)).toBe(true);
    expect(isFinder(matrix, size - 7, size - 7)).toBe(false);
    for (let i = 8; i < size - 8; i++) {
      expect(matrix[6]?.[i]).toBe(i % 2 === 0);
      expect(matrix[i]?.[6]).toBe(i % 2 === 0);
    }
  });

  it('grows with the text and is the same for the same text', () => {
    expect(qrMatrix(URI)).toEqual(qrMatrix(URI));
    const long = URI.replace('ada%40example.com', `${'a'.repeat(200)}%40example.com`);
    expect(qrMatrix(long).length).toBeGreaterThan(qrMatrix(URI).length);
  });

  it('refuses text outside printable ASCII (an otpauth URI is percent-encoded)', () => {
    expect(() => qrMatrix('otpauth://totp/é')).toThrow(TypeError);
    expect(() => qrMatrix('a\nb')).toThrow(TypeError);
  });
});
