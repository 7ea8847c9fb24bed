import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryMailer } from './memory-mailer.ts';
import { OutboxMailer } from './outbox-mailer.ts';
import { SmtpMailer } from './smtp-mailer.ts';
import { startMailSink, type SmtpSink } from '../../conformance/lib/smtp-sink.ts';

const mail = { to: 'jane@example.com', subject: 'Hello', text: 'Link: http://x/reset-password?token=abc', html: '<p>hi</p>' };

describe('SmtpMailer', () => {
  let sink: SmtpSink | undefined;
  afterEach(async () => sink?.close());

  it('delivers over SMTP with the configured sender, pooled across sends', async () => {
    sink = await startMailSink({ host: '127.0.0.1', port: 0 });
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${sink.port}`, 'Quazzar <no-reply@quazzar.test>');
    await mailer.send(mail);
    await mailer.send({ ...mail, to: 'bob@example.com', html: undefined });
    await mailer.close();
    const got = await sink.waitForMail('jane@example.com');
    expect(got.subject).toBe('Hello');
    expect(got.from).toBe('no-reply@quazzar.test');
    expect(got.text.trim()).toBe(mail.text);
    expect((await sink.waitForMail('bob@example.com')).subject).toBe('Hello');
  });

  it('rejects when the relay is unreachable', async () => {
    const mailer = new SmtpMailer('smtp://127.0.0.1:1', 'a@b.c');
    await expect(mailer.send(mail)).rejects.toThrow();
    await mailer.close();
  });
});

describe('OutboxMailer', () => {
  let dir = '';
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('writes a private .eml and a readable .txt, and notes the .txt, not the body', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-'));
    const notes: string[] = [];
    const mailer = new OutboxMailer(join(dir, 'outbox'), 'no-reply@quazzar.test', (n) => notes.push(n));
    const link = `https://app.quazzar.space/reset-password?token=${'A'.repeat(43)}`;
    await mailer.send({ ...mail, text: `Reset here:\n${link}\n` });
    await mailer.close();
    const files = (await readdir(join(dir, 'outbox'))).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/\.eml$/);
    expect(files[1]).toBe(files[0]!.replace(/\.eml$/, '.txt'));
    const eml = join(dir, 'outbox', files[0]!);
    const txt = join(dir, 'outbox', files[1]!);
    for (const f of [eml, txt]) expect((await stat(f)).mode & 0o777).toBe(0o600);
    const parsed = await simpleParser(await readFile(eml));
    expect(parsed.subject).toBe('Hello');
    expect(parsed.text).toContain(link);
    // The long link survives intact in the .txt (the .eml's quoted-printable splits it).
    expect(await readFile(txt, 'utf8')).toContain(link);
    expect(notes).toEqual([`mail to jane@example.com: Hello → ${txt}`]);
    expect(notes[0]).not.toContain('token=');
  });
});

describe('MemoryMailer', () => {
  it('records mail and resolves waiters for past and future mail', async () => {
    const mailer = new MemoryMailer();
    const later = mailer.waitFor('bob@example.com');
    await mailer.send(mail);
    expect(await mailer.waitFor('jane@example.com')).toMatchObject({ subject: 'Hello' });
    await mailer.send({ ...mail, to: 'bob@example.com' });
    expect((await later).to).toBe('bob@example.com');
    await expect(mailer.waitFor('nobody@example.com', () => true, 20)).rejects.toThrow(/no mail/);
  });
});
