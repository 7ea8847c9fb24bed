import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS typed as an ES default export: under NodeNext the default import is the
// module object for the type checker but the function at run time; accept both shapes.
type JsQR = (typeof jsQRModule)['default'];
const jsQR: JsQR =
  typeof jsQRModule === 'function' ? (jsQRModule as unknown as JsQR) : (jsQRModule as { default: JsQR }).default;

const PNG_DATA_URL = /^data:image\/png;base64,([A-Za-z0-9+/]+={0,2})$/u;

/**
 * Decodes a `data:image/png;base64,…` QR code to its text. Throws with a reason a report can
 * show when the URL is not a PNG data URL, the PNG is corrupt, or no QR code is found.
 */
export function decodeQrDataUrl(dataUrl: string): string {
  const match = PNG_DATA_URL.exec(dataUrl);
  if (!match) throw new Error('qr_code is not a data:image/png;base64 URL');
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(match[1]!, 'base64'));
  } catch (error) {
    throw new Error(`qr_code is not a readable PNG: ${(error as Error).message}`);
  }
  const pixels = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  const found = jsQR(pixels, png.width, png.height, { inversionAttempts: 'attemptBoth' });
  if (!found) throw new Error(`no QR code found in the ${png.width}×${png.height} PNG`);
  return found.data;
}
