/** At most `size` holders at once; the rest wait in line (first come, first served). */
export class Semaphore {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next in line, so `active` never drops below the queue's need.
      const next = this.waiting.shift();
      if (next) next(); else this.active--;
    }
  }
}
