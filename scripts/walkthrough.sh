#!/usr/bin/env bash
# A walk through the whole API with curl, as a new user would do it: TOTP with an RFC 6238
# generator (otplib), login with a code and with a backup code, password reset through the mail
# outbox, a project and a scoped API key. Run it from the repository root while `npm start`
# listens (no SMTP_URL, so mail lands in the outbox): `npm run walkthrough`.
# B (base URL, default http://localhost:3000) and OUTBOX (the server's MAIL_OUTBOX_DIR, default
# data/outbox) may be set, e.g. `B=http://localhost:8080 npm run walkthrough`; E is a fresh account.
# Everything goes to stdout (no `tee /dev/stderr`: with `> log 2>&1` it reopens and truncates the log).
set -euo pipefail
B=${B:-http://localhost:3000}
OUTBOX=${OUTBOX:-data/outbox}
if ! curl -s -o /dev/null --max-time 5 "$B/health"; then
  echo "no server at $B — start it with npm start, or set B=http://host:port" >&2
  exit 1
fi
E=${E:-jane.$(date +%s)@example.com}
P='correct-horse-battery-staple-42'
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(process.argv[1].split(".").reduce((o,k)=>o[k],v))})' "$1"; }
totp() { node --input-type=module -e 'import { generate } from "otplib"; console.log(await generate({ secret: process.argv[1] }))' "$1"; }
next_step() { sleep $((30 - $(date +%s) % 30 + 1)); }   # an authenticator shows a new code every 30 s

echo '# register + login'
curl -s -X POST $B/auth/register -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\",\"full_name\":\"Jane Trial\"}"; echo
TOKEN=$(curl -s -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\"}" | json access_token)

echo '# enable TOTP'
PROV=$(curl -s -X POST $B/auth/totp/provision -H "Authorization: Bearer $TOKEN")
SECRET=$(echo "$PROV" | json secret); echo "$PROV" | json uri
VERIFIED=$(curl -s -X POST $B/auth/totp/verify -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$(totp $SECRET)\"}")
echo "$VERIFIED"; BACKUP=$(echo "$VERIFIED" | json backup_codes.0)

echo '# login: no code → 401 totp_required; TOTP code → 200; backup code → 200; backup code again → 401'
curl -s -o /dev/null -w '%{http_code}\n' -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\"}"
next_step
curl -s -o /dev/null -w '%{http_code}\n' -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\",\"totp_code\":\"$(totp $SECRET)\"}"
curl -s -o /dev/null -w '%{http_code}\n' -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\",\"totp_code\":\"$BACKUP\"}"
curl -s -o /dev/null -w '%{http_code}\n' -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P\",\"totp_code\":\"$BACKUP\"}"

echo '# password reset: request, find the link in the outbox, open the page, confirm'
curl -s -X POST $B/auth/password-reset/request -H 'Content-Type: application/json' -d "{\"email\":\"$E\"}"; echo
sleep 1
MAIL=$(ls -t "$OUTBOX"/*.txt 2>/dev/null | head -1 || true)
if [ -z "$MAIL" ]; then
  echo "no reset mail in $OUTBOX — the walkthrough reads the server's outbox (a server without SMTP_URL); set OUTBOX=<its MAIL_OUTBOX_DIR>" >&2
  exit 1
fi
LINK=$(grep -ho 'http[^ ]*/reset-password?token=[A-Za-z0-9_-]*' "$MAIL"); echo "$LINK"
curl -s -o /dev/null -w 'page %{http_code} %{content_type}\n' "$LINK"
RESET=${LINK##*token=}
P2='a-new-passphrase-for-jane-77'
curl -s -X POST $B/auth/password-reset/confirm -H 'Content-Type: application/json' -d "{\"token\":\"$RESET\",\"new_password\":\"$P2\"}"; echo
curl -s -o /dev/null -w 'old session after reset: %{http_code}\n' $B/users/me -H "Authorization: Bearer $TOKEN"

echo '# log in again (new password + a fresh TOTP code), project, scoped key, use, revoke'
next_step
TOKEN=$(curl -s -X POST $B/auth/login -H 'Content-Type: application/json' -d "{\"email\":\"$E\",\"password\":\"$P2\",\"totp_code\":\"$(totp $SECRET)\"}" | json access_token)
PROJECT=$(curl -s -X POST $B/projects -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Mars Rover"}' | json id)
OTHER=$(curl -s -X POST $B/projects -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Moon Base"}' | json id)
KEYJSON=$(curl -s -X POST $B/users/me/api-keys -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"name\":\"CI\",\"project_ids\":[\"$PROJECT\"]}")
KEY=$(echo "$KEYJSON" | json key); KEYID=$(echo "$KEYJSON" | json id)
curl -s $B/users/me/api-keys -H "Authorization: Bearer $TOKEN"; echo
curl -s $B/projects -H "Authorization: Bearer $KEY"; echo
curl -s -o /dev/null -w 'key, own scope: %{http_code}\n' $B/projects/$PROJECT -H "Authorization: Bearer $KEY"
curl -s -o /dev/null -w 'key, outside scope: %{http_code}\n' $B/projects/$OTHER -H "Authorization: Bearer $KEY"
curl -s -o /dev/null -w 'key on key management: %{http_code}\n' $B/users/me/api-keys -H "Authorization: Bearer $KEY"
curl -s -o /dev/null -w 'revoke: %{http_code}\n' -X DELETE $B/users/me/api-keys/$KEYID -H "Authorization: Bearer $TOKEN"
curl -s -o /dev/null -w 'key after revoke: %{http_code}\n' $B/projects -H "Authorization: Bearer $KEY"
