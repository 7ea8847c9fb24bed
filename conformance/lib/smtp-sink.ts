import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients, lower-cased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  receivedAt: number;
}

interface Waiter {
  to: string;
  resolve: (mail: ReceivedMail) => void;
}

/**
 * A real SMTP server the deployment delivers its mail to (the reset flow). No auth, no TLS:
 * it listens on loopback or wherever the operator points it. Each mail is handed out once
 * (`waitForMail` consumes it), so "a newer request voids older tokens" can tell mails apart.
 */
export class SmtpSink {
  private readonly mails: ReceivedMail[] = [];
  private readonly waiters: Waiter[] = [];
  private server: SMTPServer | undefined;
  private boundPort = 0;
  /**
   * How long the sink holds each mail before accepting it. A check raises it to make a
   * deployment that waits for its mail to be delivered visibly slower (SEC 17).
   */
  acceptDelayMs = 0;

  get port(): number {
    return this.boundPort;
  }

  /** Every mail received so far (consumed or not), for reports. */
  get received(): readonly ReceivedMail[] {
    return this.mails;
  }

  async start(port: number, host = '127.0.0.1'): Promise<number> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 1024 * 1024,
      // A deployment's mailer keeps pooled connections open: close them at once on stop
      // instead of smtp-server's default 30 s grace.
      closeTimeout: 200,
      onData: (stream, session, callback) => {
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        simpleParser(stream)
          .then((parsed) => {
            this.deliver({
              to,
              from,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              receivedAt: Date.now(),
            });
            if (this.acceptDelayMs > 0) setTimeout(() => callback(), this.acceptDelayMs);
            else callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // smtp-server keeps the net.Server on `.server`; port 0 means "pick one".
    const inner = (server as unknown as { server: { address(): AddressInfo } }).server;
    this.boundPort = inner.address().port;
    return this.boundPort;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next unconsumed mail to `to` (case-insensitive), waiting up to `timeoutMs`. */
  waitForMail(to: string, timeoutMs = 10_000): Promise<ReceivedMail> {
    const wanted = to.toLowerCase();
    const index = this.pending.findIndex((m) => m.to.includes(wanted));
    if (index >= 0) return Promise.resolve(this.pending.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        to: wanted,
        resolve: (mail) => {
          clearTimeout(timer);
          resolve(mail);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no mail to ${to} arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Unconsumed mails to `to` right now (does not consume them). */
  pendingFor(to: string): ReceivedMail[] {
    const wanted = to.toLowerCase();
    return this.pending.filter((m) => m.to.includes(wanted));
  }

  private readonly pending: ReceivedMail[] = [];

  private deliver(mail: ReceivedMail): void {
    this.mails.push(mail);
    const waiterIndex = this.waiters.findIndex((w) => mail.to.includes(w.to));
    if (waiterIndex >= 0) {
      const [waiter] = this.waiters.splice(waiterIndex, 1);
      waiter!.resolve(mail);
      return;
    }
    this.pending.push(mail);
  }
}

/** Every http(s) URL in a mail (text part first, then the html hrefs), in order. */
export function linksInMail(mail: { text: string; html?: string | undefined }): string[] {
  const found = new Set<string>();
  for (const match of mail.text.matchAll(/https?:\/\/[^\s<>"')\]]+/gu)) found.add(match[0]);
  for (const match of (mail.html ?? '').matchAll(/href\s*=\s*"([^"]+)"/gu)) found.add(decodeHtml(match[1]!));
  return [...found];
}

function decodeHtml(text: string): string {
  return text.replace(/&amp;/gu, '&').replace(/&#x3D;|&#61;/gu, '=').replace(/&quot;/gu, '"');
}

/** The framework's entry point (`StartMailSink`): a started sink on `host:port` (0 = any). */
export async function startMailSink({ host, port }: { host: string; port: number }): Promise<SmtpSink> {
  const sink = new SmtpSink();
  await sink.start(port, host);
  return sink;
}
