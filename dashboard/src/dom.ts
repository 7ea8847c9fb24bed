// Small DOM helpers: elements built with createElement and textContent only (never innerHTML),
// so no answer of the server can become markup, and the CSP needs no 'unsafe-inline'.
import type { ClientError } from '../../client/index.ts';

type Attr = string | number | boolean | undefined | ((ev: Event) => void);
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

let ids = 0;
/** A unique element id (labels and descriptions refer to their controls by id). */
export const uid = (prefix: string): string => `${prefix}-${++ids}`;

export interface FieldOptions {
  type?: string;
  autocomplete?: string;
  required?: boolean;
  value?: string;
  hint?: string;
  minlength?: number;
  maxlength?: number;
  inputmode?: string;
  readonly?: boolean;
}

/** A labelled input with a place for its own error (filled from `validation_failed`). */
export function field(name: string, label: string, o: FieldOptions = {}): HTMLDivElement {
  const id = uid(name);
  const hintId = o.hint === undefined ? undefined : `${id}-hint`;
  const input = h('input', {
    id,
    name,
    type: o.type ?? 'text',
    autocomplete: o.autocomplete ?? 'off',
    required: o.required ?? false,
    minlength: o.minlength,
    maxlength: o.maxlength,
    inputmode: o.inputmode,
    readonly: o.readonly ?? false,
    'aria-describedby': hintId,
  });
  if (o.value !== undefined) input.value = o.value;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    o.hint === undefined ? null : h('p', { class: 'hint', id: hintId }, o.hint),
    input,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
  );
}

export interface FormParts {
  form: HTMLFormElement;
  /** The form's own message line: errors that belong to no single field, and successes. */
  message: HTMLParagraphElement;
  button: HTMLButtonElement;
}

export function form(label: string, submitText: string, children: Child[], onSubmit: (parts: FormParts) => Promise<void>): FormParts {
  const button = h('button', { type: 'submit' }, submitText);
  const message = h('p', { class: 'form-message', role: 'alert' });
  const f = h('form', { 'aria-label': label, novalidate: true }, ...children, h('div', { class: 'actions' }, button), message);
  const parts: FormParts = { form: f, message, button };
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (button.disabled) return;
    clearErrors(parts);
    button.disabled = true;
    void onSubmit(parts).finally(() => {
      button.disabled = false;
    });
  });
  return parts;
}

export const value = (f: HTMLFormElement, name: string): string => (f.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '';

export function clearErrors(parts: FormParts): void {
  parts.message.textContent = '';
  parts.message.className = 'form-message';
  for (const el of Array.from(parts.form.querySelectorAll<HTMLElement>('.field-error'))) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const input of Array.from(parts.form.querySelectorAll<HTMLInputElement>('[aria-invalid]'))) {
    input.removeAttribute('aria-invalid');
    const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter((d) => d !== '' && !d.endsWith('-error'));
    if (described.length === 0) input.removeAttribute('aria-describedby');
    else input.setAttribute('aria-describedby', described.join(' '));
  }
}

export function say(parts: FormParts, text: string, ok: boolean): void {
  parts.message.textContent = text;
  parts.message.className = `form-message ${ok ? 'ok' : 'err'}`;
}

/** What a person needs from an error: a sentence, never a code. */
export function describe(error: ClientError, retryAfterSeconds: number | undefined): string {
  if (error.status === 429 || error.code === 'rate_limited') {
    return retryAfterSeconds === undefined ? 'Too many attempts. Try again in a moment.' : `Too many attempts. Try again in ${retryAfterSeconds} s.`;
  }
  if (error.code === 'network_error') return 'The server could not be reached. Check your connection and try again.';
  if (error.status === 503) return `The service is busy. Try again${retryAfterSeconds === undefined ? ' shortly' : ` in ${retryAfterSeconds} s`}.`;
  return error.detail || error.title || `Something went wrong (${error.status}).`;
}

/**
 * Shows a failed call on its form: each field error of `validation_failed` / `weak_password`
 * next to its field (pointer `/phone` → the input named `phone`), the rest on the form's line.
 */
export function showError(parts: FormParts, error: ClientError, retryAfterSeconds: number | undefined): void {
  let first: HTMLInputElement | undefined;
  const unplaced: string[] = [];
  for (const fe of error.errors) {
    const name = fe.pointer.split('/').filter((s) => s !== '')[0];
    const input = name === undefined ? null : parts.form.querySelector<HTMLInputElement>(`input[name="${CSS.escape(name)}"]`);
    const slot = input === null ? null : parts.form.querySelector<HTMLElement>(`#${CSS.escape(input.id)}-error`);
    if (input === null || slot === null) {
      unplaced.push(fe.detail);
      continue;
    }
    slot.textContent = slot.textContent === '' ? fe.detail : `${slot.textContent} ${fe.detail}`;
    slot.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    const described = new Set((input.getAttribute('aria-describedby') ?? '').split(' ').filter((d) => d !== ''));
    described.add(slot.id);
    input.setAttribute('aria-describedby', [...described].join(' '));
    first ??= input;
  }
  const text = error.errors.length > 0 && unplaced.length === 0
    ? (error.code === 'weak_password' ? 'Choose another password (see above).' : 'Check the fields marked above.')
    : [describe(error, retryAfterSeconds), ...unplaced].join(' ');
  say(parts, text, false);
  first?.focus();
}
