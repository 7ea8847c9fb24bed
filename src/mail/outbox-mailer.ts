import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { InFlight, type Mail, type Mailer } from './mailer.ts';

/**
 * The laptop mailer: writes each message twice under `dir` — `<name>.eml`, the real MIME
 * message (opens in any mail client), and `<name>.txt`, headers and the plain-text body as
 * is (the .eml's quoted-printable encoding breaks long links, so grep the .txt) — and
 * reports the .txt path through `note`. The note names the file, never the body: the body
 * holds a live reset link, which must not end up in shared logs.
 */
export class OutboxMailer implements Mailer {
  readonly #dir: string;
  readonly #from: string;
  readonly #note: (message: string) => void;
  readonly #render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  readonly #inFlight = new InFlight();

  constructor(dir: string, from: string, note: (message: string) => void) {
    this.#dir = resolve(dir);
    this.#from = from;
    this.#note = note;
  }

  send(mail: Mail): Promise<void> {
    return this.#inFlight.track(this.#write(mail));
  }

  async #write(mail: Mail): Promise<void> {
    const info = await this.#render.sendMail({ from: this.#from, ...mail });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = join(this.#dir, `${stamp}-${randomBytes(4).toString('hex')}`);
    const readable = [`From: ${this.#from}`, `To: ${mail.to}`, `Subject: ${mail.subject}`, '', mail.text, ''].join('\n');
    // Owner-only: the files carry reset links.
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFile(`${base}.eml`, info.message as Buffer, { mode: 0o600 });
    await writeFile(`${base}.txt`, readable, { mode: 0o600 });
    this.#note(`mail to ${mail.to}: ${mail.subject} → ${base}.txt`);
  }

  async close(): Promise<void> {
    await this.#inFlight.settle();
  }
}
