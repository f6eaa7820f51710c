/**
 * A QR code as inline SVG elements, made on the server: no external service, no script, no
 * `data:` URL (the pages' CSP allows neither). `qrcode-generator` (MIT, no dependencies) encodes
 * the text into the module matrix; the SVG is built from it with preact elements, so nothing of
 * the text reaches the markup but the geometry of its dark modules.
 */

import qrcode from 'qrcode-generator';
import type { JSX } from 'preact';

/** The quiet zone the QR specification asks for around the code, in modules. */
const QUIET_ZONE = 4;

/**
 * The dark modules of `text` encoded as a QR code (byte mode, error correction M, the smallest
 * version that holds it): `matrix[row][column]` is true for a dark module.
 *
 * @example
 * qrMatrix('otpauth://totp/...').length; // 37 for a typical otpauth URI (version 5)
 */
export function qrMatrix(text: string): boolean[][] {
  // The default byte conversion keeps the low 8 bits of each UTF-16 unit: ASCII only, as a URI is.
  if (!/^[\x20-\x7e]*$/.test(text)) throw new TypeError('qrMatrix: text must be printable ASCII');
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) =>
    Array.from({ length: size }, (_, column) => code.isDark(row, column)),
  );
}

/** The path of the dark modules: one `M x y h n v1 h-n z` per horizontal run, offset by the quiet zone. */
function darkPath(matrix: boolean[][]): string {
  const parts: string[] = [];
  matrix.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (row[x] !== true) {
        x += 1;
        continue;
      }
      let run = 1;
      while (row[x + run] === true) run += 1;
      parts.push(`M${x + QUIET_ZONE} ${y + QUIET_ZONE}h${run}v1h-${run}z`);
      x += run;
    }
  });
  return parts.join('');
}

/** The QR code of `text`, `label` read out by screen readers. */
export function QRCode({ text, label }: { text: string; label: string }): JSX.Element {
  const matrix = qrMatrix(text);
  const side = matrix.length + 2 * QUIET_ZONE;
  return (
    <svg
      class="lk-qr"
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`0 0 ${side} ${side}`}
      role="img"
      aria-label={label}
      shape-rendering="crispEdges"
    >
      <rect width={side} height={side} fill="#ffffff" />
      <path d={darkPath(matrix)} fill="#000000" />
    </svg>
  );
}
