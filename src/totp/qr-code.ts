
/** A PNG QR code of `text` as a `data:image/png;base64,…` URL (rendered locally, no network). */
export async function renderQrDataUrl(text: string): Promise<string> {
  // Loaded on first use (TOTP setup is rare; qrcode is 57 modules kept out of every server's memory).
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(text, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, scale: 4 });
}
