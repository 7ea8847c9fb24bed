import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { decodeQrDataUrl } from './qr.ts';

describe('decodeQrDataUrl', () => {
  it('round-trips an otpauth URI', async () => {
    const uri = 'otpauth://totp/Quazzar:a%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Quazzar';
    expect(decodeQrDataUrl(await QRCode.toDataURL(uri))).toBe(uri);
  });
  it('refuses what is not a PNG data URL', () => {
    expect(() => decodeQrDataUrl('data:image/jpeg;base64,AAAA')).toThrow(/data:image\/png/u);
    expect(() => decodeQrDataUrl('data:image/png;base64,AAAA')).toThrow(/readable PNG/u);
  });
});
