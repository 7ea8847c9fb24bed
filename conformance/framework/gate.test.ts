import { describe, expect, it } from 'vitest';
import { RequestGate } from './gate.ts';

/** A request that answers when `release()` is called, logging when it starts and ends. */
function pending(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    send: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
      return name;
    },
    release: () => release(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RequestGate', () => {
  it('lets shared requests overlap', async () => {
    const gate = new RequestGate();
    const log: string[] = [];
    const a = pending(log, 'a');
    const b = pending(log, 'b');
    const pa = gate.shared(a.send);
    const pb = gate.shared(b.send);
    await tick();
    expect(log).toEqual(['a start', 'b start']);
    a.release();
    b.release();
    expect(await Promise.all([pa, pb])).toEqual(['a', 'b']);
  });

  it('sends a timed request only when nothing else is in flight, and holds later ones back until it is answered', async () => {
    const gate = new RequestGate();
    const log: string[] = [];
    const before = pending(log, 'before');
    const timed = pending(log, 'timed');
    const after = pending(log, 'after');
    const p1 = gate.shared(before.send);
    await tick();
    const p2 = gate.alone(timed.send);
    await tick();
    const p3 = gate.shared(after.send);
    await tick();
    // The timed request waits for the one in flight; the later one waits for the timed one.
    expect(log).toEqual(['before start']);
    before.release();
    await p1;
    await tick();
    expect(log).toEqual(['before start', 'before end', 'timed start']);
    timed.release();
    await p2;
    await tick();
    expect(log.slice(3)).toEqual(['timed end', 'after start']);
    after.release();
    await p3;
  });

  it('releases the gate when a request fails', async () => {
    const gate = new RequestGate();
    await expect(gate.alone(() => Promise.reject(new Error('reset')))).rejects.toThrow('reset');
    await expect(gate.shared(() => Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(gate.alone(() => Promise.resolve('alone'))).resolves.toBe('alone');
  });
});
