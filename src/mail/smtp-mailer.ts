import type { Transporter } from 'nodemailer';
import { loadNodemailer } from './outbox-mailer.ts';
import { InFlight, type Mail, type Mailer } from './mailer.ts';

/** Sends through an SMTP relay. Pooled: a new connection per mail costs ~100 ms. */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;
  readonly #inFlight = new InFlight();

  /** `requireTls`: refuse to send unless the server upgrades the connection with STARTTLS. */
  constructor(smtpUrl: string, from: string, requireTls = false) {
    this.#transport = loadNodemailer().createTransport({ url: smtpUrl, pool: true, requireTLS: requireTls });
    this.#from = from;
  }

  async send(mail: Mail): Promise<void> {
    await this.#inFlight.track(this.#transport.sendMail({ from: this.#from, ...mail }));
  }

  async close(): Promise<void> {
    await this.#inFlight.settle();
    this.#transport.close();
  }
}
