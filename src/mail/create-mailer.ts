import type { Config } from '../config.ts';
import { errorFields, type Logger } from '../log.ts';
import type { Mail, Mailer } from './mailer.ts';
import { OutboxMailer } from './outbox-mailer.ts';
import { SmtpMailer } from './smtp-mailer.ts';

/** SMTP when `SMTP_URL` is set; otherwise the local outbox, so the flows work on a laptop. */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailOutboxDir' | 'smtpRequireTls'>, log: Logger): Mailer {
  if (config.smtpUrl !== undefined) return new SmtpMailer(config.smtpUrl, config.mailFrom, config.smtpRequireTls);
  return new OutboxMailer(config.mailOutboxDir, config.mailFrom, (note) => log.info(note));
}

/**
 * Starts a send without waiting for it, so a slow relay never slows (or, by its timing,
 * reveals anything through) the answer. A failure is logged with the subject only.
 */
export function sendInBackground(mailer: Mailer, log: Logger, mail: Mail): void {
  mailer.send(mail).catch((err: unknown) => log.error('mail delivery failed', { subject: mail.subject, ...errorFields(err) }));
}
