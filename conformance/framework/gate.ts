// Timing samples on the wire alone (issue 19, speed without a client-ip header).
//
// A timing check (LOGIN-03) used to run ALONE: every other check waited for it to finish. With
// one address shared by the whole run its 17 logins span two login windows, and for the minute
// between them nothing else ran — every other budget's window went unused. Now only its timed
// requests are alone: `alone(send)` waits until every request in flight has been answered and
// holds new ones back until the timed answer is in, so no other request of the run is on the
// deployment while a sample is measured. Everything else passes through `shared(send)`.
// Writer-preferring: a waiting timed request goes before requests that come after it.

export class RequestGate {
  private inFlight = 0;
  private aloneNow = false;
  private aloneWaiting = 0;
  private waiters: Array<() => void> = [];

  async shared<T>(send: () => Promise<T>): Promise<T> {
    while (this.aloneNow || this.aloneWaiting > 0) await this.wait();
    this.inFlight += 1;
    try {
      return await send();
    } finally {
      this.inFlight -= 1;
      this.wake();
    }
  }

  async alone<T>(send: () => Promise<T>): Promise<T> {
    this.aloneWaiting += 1;
    try {
      while (this.aloneNow || this.inFlight > 0) await this.wait();
    } finally {
      this.aloneWaiting -= 1;
    }
    this.aloneNow = true;
    try {
      return await send();
    } finally {
      this.aloneNow = false;
      this.wake();
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
