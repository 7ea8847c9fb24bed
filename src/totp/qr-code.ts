import QRCode from 'qrcode';

/** A PNG QR code of `text` as a `data:image/png;base64,…` URL (rendered locally, no network). */
export async function renderQrDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, scale: 4 });
}
