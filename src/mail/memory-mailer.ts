import type { Mail, Mailer } from './mailer.ts';

/** Keeps every mail in memory; tests read `sent` or wait for one to arrive. */
export class MemoryMailer implements Mailer {
  readonly sent: Mail[] = [];
  readonly #waiters: { match: (m: Mail) => boolean; resolve: (m: Mail) => void }[] = [];

  async send(mail: Mail): Promise<void> {
    this.sent.push({ ...mail });
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match(mail)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(mail);
    }
  }

  /** Resolves with the first mail (already sent or yet to come) to `to` matching `match`. */
  waitFor(to: string, match: (m: Mail) => boolean = () => true, timeoutMs = 5000): Promise<Mail> {
    const wanted = (m: Mail) => m.to === to && match(m);
    const already = this.sent.find(wanted);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail to ${to} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ match: wanted, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  async close(): Promise<void> {}
}
