import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

// Tests pick a port first and bind it later (a server process, the suite's SMTP sink, a
// PostgreSQL or Redis started by a test). A port the kernel handed out for port 0 lies in its
// ephemeral range (Linux: 32768–60999), where any socket bound to port 0 or any outgoing
// connection may take it in between: EADDRINUSE, a flaky test. So the port is drawn below that
// range, where only an explicit bind can take it, and checked to be free right now.
const LOW = 20_000;
const HIGH = 32_000; // exclusive

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A loopback TCP port nobody listens on now, outside the kernel's ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(LOW, HIGH);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free loopback port found in ${LOW}–${HIGH - 1} after 100 tries`);
}
