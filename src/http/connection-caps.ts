import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';

/** Server-wide caps (issue 17, SEC 29); defaults and variables in README "Configuration". */
export interface ConnectionCaps {
  /** MAX_CONNECTIONS: open connections at most; the kernel hands over more, the server closes them at once. */
  maxConnections: number;
  /** HEADERS_TIMEOUT_MS: a client has this long to send the request headers. */
  headersTimeoutMs: number;
  /** REQUEST_TIMEOUT_MS: … and this long to send the whole request (≥ headersTimeoutMs). */
  requestTimeoutMs: number;
  /** SLOW_READER_MAX_QUEUED_BYTES: unsent answer bytes a connection may hold … */
  slowReaderMaxQueuedBytes: number;
  /** SLOW_READER_TIMEOUT_MS: … for at most this long without dropping below the cap; then it is closed. */
  slowReaderTimeoutMs: number;
}

export interface ConnectionGuard {
  /**
   * Closes every connection whose unsent bytes have stayed above the cap since at least
   * `slowReaderTimeoutMs` before `now`; returns how many. Runs on a timer; tests call it with their own clock.
   */
  sweep(now: number): number;
  /** Unsent bytes of each open connection (for tests and diagnostics). */
  queuedBytes(): number[];
  stop(): void;
}

/**
 * Applies the caps to a Node HTTP server: maxConnections, headersTimeout, requestTimeout, and a
 * sweep (every second by default) that closes connections of clients that do not read their
 * answers. Static answers are shared buffers, so such a client holds little memory; the sweep
 * still bounds how long it may hold a connection and whatever an answer queued for it.
 */
export function applyConnectionCaps(server: Server, caps: ConnectionCaps, log: Logger, opts: { sweepEveryMs?: number; now?: () => number } = {}): ConnectionGuard {
  server.maxConnections = caps.maxConnections;
  server.headersTimeout = caps.headersTimeoutMs;
  server.requestTimeout = caps.requestTimeoutMs;
  // Since when each connection has held more than the cap (absent: at or below it).
  const open = new Map<Socket, number | null>();
  server.on('connection', (socket: Socket) => {
    open.set(socket, null);
    socket.once('close', () => open.delete(socket));
  });
  let refusedSeen = 0;
  server.on('drop', () => {
    refusedSeen += 1;
    if (refusedSeen === 1 || refusedSeen % 1000 === 0) log.warn('connection refused: MAX_CONNECTIONS reached', { maxConnections: caps.maxConnections, refused: refusedSeen });
  });
  const guard: ConnectionGuard = {
    sweep(now) {
      let closed = 0;
      for (const [socket, since] of open) {
        if (socket.writableLength <= caps.slowReaderMaxQueuedBytes) {
          if (since !== null) open.set(socket, null);
          continue;
        }
        if (since === null) {
          open.set(socket, now);
        } else if (now - since >= caps.slowReaderTimeoutMs) {
          socket.destroy();
          open.delete(socket);
          closed += 1;
        }
      }
      if (closed > 0) log.warn('slow readers disconnected', { closed, maxQueuedBytes: caps.slowReaderMaxQueuedBytes, timeoutMs: caps.slowReaderTimeoutMs });
      return closed;
    },
    queuedBytes: () => [...open.keys()].map((s) => s.writableLength),
    stop: () => clearInterval(timer),
  };
  const every = opts.sweepEveryMs ?? 1000;
  const now = opts.now ?? Date.now;
  const timer = every > 0 ? setInterval(() => guard.sweep(now()), every).unref() : undefined;
  server.once('close', () => clearInterval(timer));
  return guard;
}
