import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink, linksInMail } from './smtp-sink.ts';

describe('SmtpSink', () => {
  const sink = new SmtpSink();
  let port = 0;
  beforeAll(async () => {
    port = await sink.start(0);
  });
  afterAll(() => sink.close());

  const send = (to: string, text: string) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
      .sendMail({ from: 'noreply@quazzar.test', to, subject: 'Reset', text, html: `<a href="${text}">x</a>` });

  it('receives a mail sent before the wait, and parses its link', async () => {
    await send('Alice@Example.com', 'https://app.example/reset-password?token=abc');
    const mail = await sink.waitForMail('alice@example.com', 2000);
    expect(mail.subject).toBe('Reset');
    expect(linksInMail(mail)).toEqual(['https://app.example/reset-password?token=abc']);
  });

  it('hands each mail out once, in order, and waits for later ones', async () => {
    const waiting = sink.waitForMail('bob@example.com', 5000);
    await send('bob@example.com', 'https://a.example/1');
    await send('bob@example.com', 'https://a.example/2');
    expect(linksInMail(await waiting)).toEqual(['https://a.example/1']);
    expect(linksInMail(await sink.waitForMail('bob@example.com', 2000))).toEqual(['https://a.example/2']);
    await expect(sink.waitForMail('bob@example.com', 50)).rejects.toThrow(/no mail/u);
  });
});
