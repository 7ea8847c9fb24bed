// Baseline server for `npm run bench`: bare Koa answering the same JSON as GET /users/me, with
// the same security headers, plain JavaScript (no loader). PORT from the environment.
import Koa from 'koa';

const USER_JSON = {
  id: '550e8400-e29b-41d4-a716-446655440000', email: 'jane@example.com', full_name: 'Jane Developer',
  company_name: 'Acme Corp', phone: null, is_active: true, totp_enabled: false, created_at: '2026-01-15T08:30:00.000Z',
};
const app = new Koa();
app.use((ctx) => {
  ctx.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
  ctx.body = USER_JSON;
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
