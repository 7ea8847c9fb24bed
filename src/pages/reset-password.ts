import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type { AppDeps } from '../deps.ts';
import { staticBudget } from '../http/static-routes.ts';

/**
 * GET /reset-password — the page the reset mail links to. Self-contained (no external
 * assets), so it works offline and under a strict CSP: the inline script and style are
 * allowed by hash, nothing else loads, and the only request it makes is the confirm POST.
 */

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit}#status{margin-top:1rem;min-height:1.5rem}
.ok{color:#116329}.err{color:#a40e26}`;

// Reads the token, then removes it from the address bar and history (it is a credential).
const SCRIPT = `(function(){
var params=new URLSearchParams(location.search);var token=params.get('token')||'';
if(token){history.replaceState(null,'',location.pathname);}
var form=document.getElementById('reset');var status=document.getElementById('status');
function say(text,ok){status.textContent=text;status.className=ok?'ok':'err';}
if(!token){say('This link has no reset token. Open the link from the e-mail again, or request a new one.',false);form.hidden=true;return;}
form.addEventListener('submit',function(ev){
  ev.preventDefault();
  var pw=form.elements.namedItem('new_password').value;var again=form.elements.namedItem('confirm').value;
  if(pw!==again){say('The two passwords differ.',false);return;}
  var button=form.querySelector('button');button.disabled=true;say('Saving…',true);
  fetch(new URL('auth/password-reset/confirm',location.href),{method:'POST',headers:{'Content-Type':'application/json','Accept':'application/json'},
    body:JSON.stringify({token:token,new_password:pw}),credentials:'omit',referrerPolicy:'no-referrer'})
  .then(function(res){return res.json().catch(function(){return {};}).then(function(body){
    if(res.ok){form.hidden=true;say('Your password has been reset. Sign in with the new one; every other session was signed out.',true);return;}
    button.disabled=false;
    if(res.status===400){form.hidden=true;say('This reset link is invalid, already used or expired. Request a new one.',false);}
    else if(res.status===422){say((body&&body.detail)||'This password is not accepted; choose another one.',false);}
    else if(res.status===429){say('Too many attempts. Try again in '+(res.headers.get('Retry-After')||'a few')+' seconds.',false);}
    else{say('Something went wrong ('+res.status+'). Try again later.',false);}
  });},function(){button.disabled=false;say('The server could not be reached. Try again.',false);});
});
})();`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export const RESET_PASSWORD_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Reset your password · Quazzar Space</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Reset your password</h1>
<form id="reset" autocomplete="off">
<label for="new_password">New password (15 to 128 characters)</label>
<input id="new_password" name="new_password" type="password" minlength="15" maxlength="128" autocomplete="new-password" required>
<label for="confirm">The same again</label>
<input id="confirm" name="confirm" type="password" minlength="15" maxlength="128" autocomplete="new-password" required>
<button type="submit">Set new password</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
<script>${SCRIPT}</script>
</body>
</html>
`;

export const RESET_PASSWORD_PATH = '/reset-password';

/** Encoded once: every request is answered with this same Buffer (issue 17, SEC 29). */
const BODY = Buffer.from(HTML, 'utf8');

/**
 * Serves the page on GET/HEAD /reset-password, under the contract's `x-static-rate-limit`
 * per client IP; any other method there is 405 by the caller's rules. Not cacheable (see below).
 */
export function resetPasswordPage(deps: Pick<AppDeps, 'contract' | 'config' | 'limiter'>): Koa.Middleware {
  const spend = staticBudget(deps);
  return async (ctx, next) => {
    if (ctx.path !== RESET_PASSWORD_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    await spend(ctx);
    ctx.set('Content-Security-Policy', RESET_PASSWORD_PAGE_CSP);
    // The URL carries a live token: keep it out of caches and Referer headers.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = BODY;
  };
}
