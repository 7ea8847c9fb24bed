// The Quazzar Space dashboard (issue 18): one page, no framework, built on the typed client.
// The session token lives only inside the client object in this page's memory (DECISIONS,
// "Dashboard"): never in a URL, a cookie, localStorage or sessionStorage; a reload signs out.
import { createQuazzarClient, type ClientError, type Failure, type LoginOutcome, type ReauthResult, type Result, type Schemas } from '../../client/index.ts';
import { append, type Child, describe, field, form, type FormParts, h, say, showError, uid, value } from './dom.ts';

type User = Schemas['User'];
type Project = Schemas['Project'];
type ApiKey = Schemas['ApiKey'];

const client = createQuazzarClient({
  baseUrl: location.origin,
  onSessionEnded: () => signOutLocally('Your session has ended. Sign in again.'),
});

/** Everything the page knows about the signed-in person; cleared by sign-out. */
let user: User | undefined;

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const announceEl = document.getElementById('announce') as HTMLElement;

const PUBLIC_VIEWS = ['sign-in', 'register', 'forgot'] as const;
const PRIVATE_VIEWS = ['profile', 'two-factor', 'api-keys', 'projects'] as const;
type View = (typeof PUBLIC_VIEWS)[number] | (typeof PRIVATE_VIEWS)[number];
const TITLES: Record<View, string> = {
  'sign-in': 'Sign in',
  register: 'Create an account',
  forgot: 'Forgot your password?',
  profile: 'Profile',
  'two-factor': 'Two-factor authentication',
  'api-keys': 'API keys',
  projects: 'Projects',
};

function announce(text: string): void {
  announceEl.textContent = text;
}

function currentView(): View {
  const wanted = location.hash.replace(/^#\/?/, '');
  if (user === undefined) return (PUBLIC_VIEWS as readonly string[]).includes(wanted) ? (wanted as View) : 'sign-in';
  return (PRIVATE_VIEWS as readonly string[]).includes(wanted) ? (wanted as View) : 'profile';
}

function go(view: View): void {
  if (location.hash === `#${view}`) void render();
  else location.hash = view; // hashchange renders
}

/** Replaces the whole view: whatever secret the last one showed (TOTP secret, backup codes, a new key) leaves the DOM. */
function show(title: string, ...children: Child[]): void {
  const heading = h('h1', { tabindex: -1 }, title);
  main.replaceChildren(heading);
  append(main, children);
  document.title = `${title} · Quazzar Space`;
  heading.focus();
}

function renderNav(view: View): void {
  if (user === undefined) {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  const links = PRIVATE_VIEWS.map((v) => h('li', {}, h('a', { href: `#${v}`, 'aria-current': v === view ? 'page' : undefined }, TITLES[v])));
  const signOutButton = h('button', { type: 'button', class: 'link', onclick: () => void signOut() }, 'Sign out');
  nav.hidden = false;
  nav.replaceChildren(h('ul', {}, ...links, h('li', {}, signOutButton)), h('p', { class: 'who' }, 'Signed in as ', h('strong', {}, user.email)));
}

/**
 * Every render, and sign-out, starts a new generation: an answer that arrives after the person
 * moved on (or after the session ended) must not draw its view over the current one.
 */
let generation = 0;
function liveness(): () => boolean {
  const g = generation;
  return () => g === generation;
}

async function render(): Promise<void> {
  generation++;
  const view = currentView();
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
  renderNav(view);
  switch (view) {
    case 'sign-in': return signInView();
    case 'register': return registerView();
    case 'forgot': return forgotView();
    case 'profile': return profileView();
    case 'two-factor': return twoFactorView();
    case 'api-keys': return apiKeysView();
    case 'projects': return projectsView();
  }
}

/** Forgets everything about the session in this page (the token is dropped by the client). */
function signOutLocally(message: string): void {
  generation++;
  client.setCredential(undefined);
  user = undefined;
  closeDialogs();
  announce(message);
  go('sign-in');
}

async function signOut(): Promise<void> {
  await client.logout();
  signOutLocally('You are signed out.');
}

const fail = (parts: FormParts, r: Failure): void => showError(parts, r.error, r.rateLimit.retryAfterSeconds ?? (r.status === 429 ? r.rateLimit.resetSeconds : undefined));

// ------------------------------------------------------------------ dialogs

const openDialogs = new Set<HTMLDialogElement>();
function closeDialogs(): void {
  for (const d of openDialogs) {
    d.close();
    d.remove();
  }
  openDialogs.clear();
}

function dialog(title: string, build: (close: () => void, titleId: string) => Child[]): HTMLDialogElement {
  const titleId = uid('dialog-title');
  const d = h('dialog', { 'aria-labelledby': titleId });
  const close = (): void => {
    d.close();
    d.remove();
    openDialogs.delete(d);
  };
  append(d, [h('h2', { id: titleId }, title), ...build(close, titleId)]);
  document.body.append(d);
  openDialogs.add(d);
  d.showModal();
  return d;
}

/**
 * 403 `reauthentication_required`: the login is too old for this action. Asks for the password
 * in a dialog and retries the same request with it; `undefined` when the person cancels.
 */
async function reauthenticated<T>(first: ReauthResult<T>): Promise<Result<T> | undefined> {
  if (first.ok || !first.reauthenticationRequired) return first;
  let pending = first;
  return new Promise((resolve) => {
    const d = dialog('Confirm your password', (close) => {
      const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => { close(); resolve(undefined); } }, 'Cancel');
      const parts = form('Confirm your password', 'Confirm', [
        h('p', {}, 'For your security, enter your password again to go on.'),
        field('current_password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
      ], async (p) => {
        const r = await pending.retryWithPassword(value(p.form, 'current_password'));
        if (!r.ok && r.reauthenticationRequired) {
          pending = r;
          say(p, 'That password is not right. Try again.', false);
          return;
        }
        // A wrong password (or its budget spent) keeps the dialog open with the reason.
        if (!r.ok && (r.error.code === 'invalid_current_password' || r.status === 429)) {
          fail(p, r);
          return;
        }
        close();
        resolve(r);
      });
      parts.form.querySelector('.actions')?.append(cancel);
      return [parts.form];
    });
    d.addEventListener('cancel', () => { openDialogs.delete(d); d.remove(); resolve(undefined); });
  });
}

function confirmDialog(title: string, text: string, confirmText: string): Promise<boolean> {
  return new Promise((resolve) => {
    const d = dialog(title, (close) => [
      h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => { close(); resolve(true); } }, confirmText),
        h('button', { type: 'button', class: 'secondary', onclick: () => { close(); resolve(false); } }, 'Cancel')),
    ]);
    d.addEventListener('cancel', () => { openDialogs.delete(d); d.remove(); resolve(false); });
  });
}

async function copy(text: string, status: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    status.textContent = 'Copying is not allowed here: select the text and copy it yourself.';
  }
}

// ------------------------------------------------------------------ signed out

async function afterSignIn(): Promise<void> {
  const me = await client.getCurrentUser();
  if (!me.ok) {
    signOutLocally(describe(me.error, me.rateLimit.retryAfterSeconds));
    return;
  }
  user = me.data;
  announce(`Signed in as ${user.email}.`);
  go('profile');
}

function signInView(): void {
  const parts = form('Sign in', 'Sign in', [
    field('email', 'E-mail', { type: 'email', autocomplete: 'username', required: true }),
    field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
  ], async (p) => {
    const outcome = await client.login({ email: value(p.form, 'email'), password: value(p.form, 'password') });
    if (outcome.kind === 'signed_in') return afterSignIn();
    if (outcome.kind === 'totp_required') return totpStepView(outcome);
    fail(p, outcome);
  });
  show(TITLES['sign-in'],
    parts.form,
    h('p', { class: 'links' }, h('a', { href: '#forgot' }, 'Forgot your password?'), ' · ', h('a', { href: '#register' }, 'Create an account')),
  );
}

/** The second step of a login with two-factor authentication: a code from the app, or a backup code. */
function totpStepView(pending: Extract<LoginOutcome, { kind: 'totp_required' }>): void {
  let backup = false;
  const codeField = field('totp_code', 'Code from your authenticator app', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, maxlength: 32 });
  const label = codeField.querySelector('label') as HTMLLabelElement;
  const input = codeField.querySelector('input') as HTMLInputElement;
  const toggle = h('button', { type: 'button', class: 'link' }, 'Use a backup code instead');
  toggle.addEventListener('click', () => {
    backup = !backup;
    label.textContent = backup ? 'Backup code' : 'Code from your authenticator app';
    input.inputMode = backup ? 'text' : 'numeric';
    toggle.textContent = backup ? 'Use a code from the app instead' : 'Use a backup code instead';
    input.value = '';
    input.focus();
  });
  const parts = form('Two-factor code', 'Verify', [
    h('p', {}, 'Your account uses two-factor authentication. Enter the 6-digit code your authenticator app shows, or one of your backup codes.'),
    codeField,
    h('p', {}, toggle),
  ], async (p) => {
    const outcome = await pending.withTotpCode(value(p.form, 'totp_code').trim());
    if (outcome.kind === 'signed_in') return afterSignIn();
    fail(p, outcome);
  });
  show('Two-factor authentication', parts.form, h('p', { class: 'links' }, h('a', { href: '#sign-in', onclick: () => void render() }, 'Cancel and start again')));
}

function registerView(): void {
  const parts = form('Create an account', 'Create account', [
    field('email', 'E-mail', { type: 'email', autocomplete: 'email', required: true }),
    field('full_name', 'Full name', { autocomplete: 'name', required: true }),
    field('company_name', 'Company (optional)', { autocomplete: 'organization' }),
    field('password', 'Password', { type: 'password', autocomplete: 'new-password', required: true, hint: '15 to 128 characters; a passphrase of a few words works well.' }),
  ], async (p) => {
    const email = value(p.form, 'email');
    const password = value(p.form, 'password');
    const company = value(p.form, 'company_name').trim();
    const r = await client.register({ email, password, full_name: value(p.form, 'full_name'), ...(company === '' ? {} : { company_name: company }) });
    if (!r.ok) return fail(p, r);
    const login = await client.login({ email, password });
    if (login.kind === 'signed_in') return afterSignIn();
    say(p, 'Your account is created. Sign in to go on.', true);
  });
  show(TITLES.register, parts.form, h('p', { class: 'links' }, 'Already have an account? ', h('a', { href: '#sign-in' }, 'Sign in')));
}

function forgotView(): void {
  const parts = form('Request a password reset', 'Send reset link', [
    h('p', {}, 'Enter the e-mail address of your account. We send a link that opens a page where you choose a new password.'),
    field('email', 'E-mail', { type: 'email', autocomplete: 'email', required: true }),
  ], async (p) => {
    const email = value(p.form, 'email');
    const r = await client.requestPasswordReset({ email });
    if (!r.ok) return fail(p, r);
    show('Check your mail',
      h('p', { class: 'ok' }, `If an account exists for ${email}, a link to reset its password is on its way. It works once and expires soon.`),
      h('p', {}, 'Open the link, choose a new password there, then come back and sign in.'),
      h('p', { class: 'links' }, h('a', { href: '#sign-in' }, 'Back to sign in')));
  });
  show(TITLES.forgot, parts.form, h('p', { class: 'links' }, h('a', { href: '#sign-in' }, 'Back to sign in')));
}

// ------------------------------------------------------------------ signed in

function loading(title: string): void {
  show(title, h('p', { role: 'status' }, 'Loading…'));
}

function loadFailed(title: string, error: ClientError, retryAfter: number | undefined): void {
  show(title, h('p', { class: 'err', role: 'alert' }, describe(error, retryAfter)));
}

async function profileView(): Promise<void> {
  const live = liveness();
  loading(TITLES.profile);
  const me = await client.getCurrentUser();
  if (!live()) return;
  if (!me.ok) return loadFailed(TITLES.profile, me.error, me.rateLimit.retryAfterSeconds);
  user = me.data;
  renderNav('profile');
  const u = me.data;
  const details = h('dl', { class: 'facts' },
    h('dt', {}, 'E-mail'), h('dd', {}, u.email),
    h('dt', {}, 'Member since'), h('dd', {}, new Date(u.created_at).toLocaleDateString()),
    h('dt', {}, 'Two-factor authentication'), h('dd', {}, u.totp_enabled ? 'On' : 'Off'));
  const edit = form('Edit profile', 'Save profile', [
    field('full_name', 'Full name', { autocomplete: 'name', required: true, value: u.full_name }),
    field('company_name', 'Company', { autocomplete: 'organization', value: u.company_name ?? '' }),
    field('phone', 'Phone', { type: 'tel', autocomplete: 'tel', value: u.phone ?? '', hint: 'Digits, with an optional +, spaces, dots, dashes and parentheses.' }),
  ], async (p) => {
    const company = value(p.form, 'company_name').trim();
    const phone = value(p.form, 'phone').trim();
    const r = await client.updateCurrentUser({ full_name: value(p.form, 'full_name'), company_name: company === '' ? null : company, phone: phone === '' ? null : phone });
    if (!r.ok) return fail(p, r);
    user = r.data;
    say(p, 'Profile saved.', true);
  });
  const password = form('Change password', 'Change password', [
    field('current_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
    field('new_password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, hint: '15 to 128 characters.' }),
  ], async (p) => {
    const r = await client.changePassword({ current_password: value(p.form, 'current_password'), new_password: value(p.form, 'new_password') });
    if (!r.ok) return fail(p, r);
    p.form.reset();
    say(p, 'Password changed. Your other sessions were signed out.', true);
  });
  show(TITLES.profile,
    details,
    h('section', { 'aria-labelledby': 'edit-profile' }, h('h2', { id: 'edit-profile' }, 'Your details'), edit.form),
    h('section', { 'aria-labelledby': 'change-password' }, h('h2', { id: 'change-password' }, 'Password'), password.form),
  );
}

async function twoFactorView(): Promise<void> {
  const title = TITLES['two-factor'];
  const live = liveness();
  loading(title);
  const me = await client.getCurrentUser();
  if (!live()) return;
  if (!me.ok) return loadFailed(title, me.error, me.rateLimit.retryAfterSeconds);
  user = me.data;
  if (me.data.totp_enabled) {
    const parts = form('Turn off two-factor authentication', 'Turn off two-factor authentication', [
      field('code', 'Code from your app, or a backup code', { autocomplete: 'one-time-code', required: true, maxlength: 32 }),
    ], async (p) => {
      const r = await reauthenticated(await client.disableTotp({ code: value(p.form, 'code').trim() }));
      if (r === undefined) return say(p, 'Cancelled: two-factor authentication is still on.', false);
      if (!r.ok) return fail(p, r);
      announce('Two-factor authentication is off.');
      await twoFactorView();
    });
    show(title, h('p', { class: 'ok' }, 'Two-factor authentication is on: signing in asks for a code from your authenticator app.'), parts.form);
    return;
  }
  const start = h('button', { type: 'button' }, 'Set up two-factor authentication');
  const message = h('p', { class: 'form-message', role: 'alert' });
  start.addEventListener('click', async () => {
    start.disabled = true;
    const enrolment = await client.startTotpEnrolment();
    if (!live()) return;
    start.disabled = false;
    if (!enrolment.ok) {
      message.textContent = describe(enrolment.error, enrolment.rateLimit.retryAfterSeconds);
      message.className = 'form-message err';
      return;
    }
    enrolView(enrolment);
  });
  show(title, h('p', {}, 'Two-factor authentication is off. With it on, signing in also asks for a code from an authenticator app on your phone.'), h('div', { class: 'actions' }, start), message);
}

type Enrolment = Extract<Awaited<ReturnType<typeof client.startTotpEnrolment>>, { ok: true }>;

function enrolView(enrolment: Enrolment): void {
  const title = TITLES['two-factor'];
  const parts = form('Confirm two-factor authentication', 'Turn on', [
    field('code', 'Code from your authenticator app', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, maxlength: 6 }),
  ], async (p) => {
    const r = await reauthenticated(await enrolment.verify(value(p.form, 'code').trim()));
    if (r === undefined) return say(p, 'Cancelled: two-factor authentication is still off.', false);
    if (!r.ok) return fail(p, r);
    backupCodesView(r.data.backup_codes);
  });
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => void twoFactorView() }, 'Cancel');
  parts.form.querySelector('.actions')?.append(cancel);
  show(title,
    h('ol', { class: 'steps' },
      h('li', {}, 'Scan this QR code with your authenticator app:', h('img', { class: 'qr', src: enrolment.data.qr_code, alt: 'QR code to scan with your authenticator app', width: 200, height: 200 })),
      h('li', {}, 'Or enter this key in the app by hand: ', h('code', { class: 'secret' }, enrolment.data.secret)),
      h('li', {}, 'Enter the 6-digit code the app shows to turn it on:', parts.form)),
  );
}

function backupCodesView(codes: string[]): void {
  const text = `Quazzar Space backup codes (each works once)\n\n${codes.join('\n')}\n`;
  const status = h('p', { role: 'status', class: 'hint' });
  const download = h('button', { type: 'button', class: 'secondary' }, 'Download');
  download.addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = h('a', { href: url, download: 'quazzar-backup-codes.txt', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  const done = h('button', { type: 'button', onclick: () => { announce('Two-factor authentication is on.'); void twoFactorView(); } }, 'I have saved my backup codes');
  show('Save your backup codes',
    h('p', { class: 'ok' }, 'Two-factor authentication is on.'),
    h('p', {}, 'If you lose your phone, each of these codes signs you in once instead of a code from the app. They are shown only now: copy or download them and keep them somewhere safe.'),
    h('ul', { class: 'codes', 'aria-label': 'Backup codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void copy(codes.join('\n'), status) }, 'Copy'), download, done),
    status,
  );
}

async function loadProjects(): Promise<Result<Schemas['ProjectList']>> {
  return client.listProjects();
}

const when = (iso: string): string => new Date(iso).toLocaleString();

function table(caption: string, head: string[], rows: Child[][]): HTMLElement {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))));
}

async function apiKeysView(): Promise<void> {
  const title = TITLES['api-keys'];
  const live = liveness();
  loading(title);
  const [keys, projects] = await Promise.all([client.listApiKeys(), loadProjects()]);
  if (!live()) return;
  if (!keys.ok) return loadFailed(title, keys.error, keys.rateLimit.retryAfterSeconds);
  if (!projects.ok) return loadFailed(title, projects.error, projects.rateLimit.retryAfterSeconds);
  const names = new Map(projects.data.projects.map((p) => [p.id, p.name]));
  const scope = (k: ApiKey): string => (k.project_ids.length === 0 ? 'Profile only' : k.project_ids.map((id) => names.get(id) ?? id).join(', '));
  const list = keys.data.api_keys.length === 0
    ? h('p', {}, 'You have no API keys yet.')
    : table('Your API keys', ['Name', 'Prefix', 'Scope', 'Created', ''], keys.data.api_keys.map((k) => [
      k.name, h('code', {}, k.prefix), scope(k), when(k.created_at),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke key ${k.name}`, onclick: () => void revokeKey(k) }, 'Revoke'),
    ]));
  const boxes = projects.data.projects.map((p: Project) => {
    const id = uid('scope');
    return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'project_ids', value: p.id }), h('label', { for: id }, p.name));
  });
  const parts = form('Create an API key', 'Create key', [
    field('name', 'Key name', { required: true, maxlength: 100, hint: 'To recognise the key by, e.g. "CI deploy".' }),
    h('fieldset', {}, h('legend', {}, 'Projects this key may read'),
      ...(boxes.length === 0 ? [h('p', { class: 'hint' }, 'You have no projects: the key can read your profile only. Create projects first to scope a key to them.')] : boxes)),
  ], async (p) => {
    const project_ids = Array.from(p.form.querySelectorAll<HTMLInputElement>('input[name=project_ids]:checked')).map((c) => c.value);
    const r = await reauthenticated(await client.createApiKey({ name: value(p.form, 'name'), project_ids }));
    if (r === undefined) return say(p, 'Cancelled: no key was created.', false);
    if (!r.ok) return fail(p, r);
    newKeyView(r.data);
  });
  show(title,
    h('p', {}, 'Programs use an API key instead of your password. A key reads your profile and the projects it is scoped to; revoke it when it is no longer needed.'),
    list,
    h('section', { 'aria-labelledby': 'new-key' }, h('h2', { id: 'new-key' }, 'New key'), parts.form),
  );
}

function newKeyView(created: Schemas['ApiKeyCreated']): void {
  const status = h('p', { role: 'status', class: 'hint' });
  const keyField = field('key', 'Your new API key', { readonly: true, value: created.key });
  show('Your new API key',
    h('p', { class: 'ok' }, `Key "${created.name}" is created. Copy it now: it is shown only once.`),
    keyField,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => void copy(created.key, status) }, 'Copy key'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { announce('The key is hidden.'); void apiKeysView(); } }, 'Done')),
    status,
  );
}

async function revokeKey(k: ApiKey): Promise<void> {
  const sure = await confirmDialog(`Revoke key "${k.name}"?`, `Programs using the key ${k.prefix}… stop working at once. This cannot be undone.`, 'Revoke key');
  if (!sure) return;
  const r = await client.revokeApiKey(k.id);
  if (!r.ok) {
    announce(describe(r.error, r.rateLimit.retryAfterSeconds));
    return;
  }
  announce(`Key "${k.name}" is revoked.`);
  await apiKeysView();
}

async function projectsView(): Promise<void> {
  const title = TITLES.projects;
  const live = liveness();
  loading(title);
  const projects = await loadProjects();
  if (!live()) return;
  if (!projects.ok) return loadFailed(title, projects.error, projects.rateLimit.retryAfterSeconds);
  const list = projects.data.projects.length === 0
    ? h('p', {}, 'You have no projects yet.')
    : table('Your projects', ['Name', 'ID', 'Created'], projects.data.projects.map((p) => [p.name, h('code', {}, p.id), when(p.created_at)]));
  const parts = form('Create a project', 'Create project', [
    field('name', 'Project name', { required: true, maxlength: 100 }),
  ], async (p) => {
    const name = value(p.form, 'name');
    const r = await client.createProject({ name });
    if (!r.ok) return fail(p, r);
    announce(`Project "${r.data.name}" is created.`);
    await projectsView();
  });
  show(title, list, h('section', { 'aria-labelledby': 'new-project' }, h('h2', { id: 'new-project' }, 'New project'), parts.form));
}

// ------------------------------------------------------------------ start

document.querySelector('a.skip')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void render());
void render();
