import type { Predictor } from '../lib/model/index.ts';
import { ApiError } from './errors.ts';

/** A level that cannot fit the predictor memory budget even alone. */
export class OverMemoryBudget extends ApiError {
  constructor(message: string) { super(422, 'over_memory_budget', message); }
}

interface Entry {
  key: string;
  /** Bytes reserved: the model files' size until loaded, then what the predictors hold. */
  bytes: number;
  predictors: Promise<Predictor[]>;
  pins: number;
  lastUsed: number;
}

export const MB = 1024 * 1024;

/** Refuses (422) model weights larger than a whole predictor budget, naming both sizes; `what` names them. */
export function assertFitsBudget(what: string, bytes: number, budgetBytes: number, budgetName = 'the predictor memory budget'): void {
  if (bytes > budgetBytes) {
    throw new OverMemoryBudget(`${what} needs ${mb(bytes)} MB of model weights, more than ${budgetName} of ${mb(budgetBytes)} MB ` +
      '(PIE_PREDICTOR_BUDGET_MB); ask for fewer levels or raise the budget');
  }
}

/**
 * Loaded predictors of whole levels, within a memory budget: a level is loaded on first use,
 * and when a new level does not fit, the least recently used unpinned levels are evicted
 * (their weights freed for reuse) until it does. A level in use by a request is pinned; a
 * request that needs room held by pinned levels waits for them. A level larger than the whole
 * budget is refused with a 422 naming both sizes.
 */
export class PredictorCache {
  private entries = new Map<string, Entry>();
  private waiters: (() => void)[] = [];
  private clock = 0;
  /** Levels loaded and evicted since start (for the memory report and tests). */
  readonly stats = { loads: 0, evictions: 0 };

  constructor(readonly budgetBytes: number, /** How errors name the budget. */ private readonly budgetName = 'the predictor memory budget') {
    if (!(budgetBytes > 0)) throw new RangeError(`predictor memory budget must be > 0 bytes, got ${budgetBytes}`);
  }

  /** Bytes reserved by the levels held now. */
  get usedBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.bytes;
    return sum;
  }

  /** Whether the level is held now (loaded, or loading). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Keys of the levels held now, least recently used first. */
  held(): string[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed).map((e) => e.key);
  }

  /**
   * Runs `use` with the level's predictors, loading them (`load`, expected to take about
   * `fileBytes`) if they are not held; the level stays pinned until `use` settles. `what` names the level in errors.
   */
  async with<T>(key: string, what: string, fileBytes: number, load: () => Promise<Predictor[]>, use: (p: Predictor[]) => T | Promise<T>): Promise<T> {
    assertFitsBudget(what, fileBytes, this.budgetBytes, this.budgetName);
    let entry = this.entries.get(key);
    while (!entry) {
      if (this.makeRoom(fileBytes)) {
        entry = { key, bytes: fileBytes, predictors: load(), pins: 0, lastUsed: 0 };
        this.entries.set(key, entry);
        this.stats.loads++;
        const e = entry;
        e.predictors.then(
          (ps) => { e.bytes = ps.reduce((a, p) => a + p.memoryBytes, 0); },
          () => { if (this.entries.get(key) === e) this.entries.delete(key); this.wake(); },
        );
        break;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      entry = this.entries.get(key);
    }
    entry.pins++;
    entry.lastUsed = ++this.clock;
    try {
      return await use(await entry.predictors); // pinned until `use` has finished
    } finally {
      entry.pins--;
      this.wake();
    }
  }

  /** Evicts LRU unpinned levels until `bytes` more fit; false if pinned levels hold too much. */
  private makeRoom(bytes: number): boolean {
    let used = this.usedBytes;
    if (used + bytes <= this.budgetBytes) return true;
    for (const key of this.held()) {
      const e = this.entries.get(key)!;
      if (e.pins > 0) continue;
      this.entries.delete(key);
      this.stats.evictions++;
      used -= e.bytes;
      e.predictors.then((ps) => ps.forEach((p) => p.release()), () => {});
      if (used + bytes <= this.budgetBytes) return true;
    }
    return false;
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}
