import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Transporter } from 'nodemailer';
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
  // nodemailer (~10 MB of RSS) is loaded with the first mail, not at start.
  #render: Transporter | undefined;
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
    this.#render ??= loadNodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
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

/** nodemailer on first use (CommonJS, so a synchronous require). */
export function loadNodemailer(): typeof import('nodemailer') {
  return createRequire(import.meta.url)('nodemailer') as typeof import('nodemailer');
}
