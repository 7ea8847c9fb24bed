import type { MailMessage, Mailer } from '../deps.ts';

// The interface lives in deps.ts (every domain depends on it); re-exported here for the mailers.
export type { Mailer };
export type Mail = MailMessage;

/** Tracks sends in flight so that `close()` lets them finish instead of cutting them off. */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
