import { LRUCache } from 'lru-cache';
import { imageVoteStats, type RunSummary } from '../lib/analysis/index.ts';
import { assertLabels } from '../lib/analysis/validate.ts';
import { type ClassArray, classArrayFromBytes } from '../lib/class-array.ts';
import { sha256Bytes, sha256Hex } from '../lib/hash.ts';
import { classBytesOf, inputShapeOf, ManifestError, parseManifest, RUN_FILES, type FileEntry, type Manifest } from '../lib/manifest.ts';
import { createPredictor, decodeModel, type Predictor } from '../lib/model/index.ts';
import { LATEST_KEY, getText, readRange, type Store } from '../lib/store.ts';
import { CorruptRun, NotFound } from './errors.ts';
import { Semaphore } from './limit.ts';
import { MB, PredictorCache } from './predictor-cache.ts';

/** Default predictor memory budget on Node (PIE_PREDICTOR_BUDGET_MB); a Worker sets its own. */
export const DEFAULT_PREDICTOR_BUDGET_MB = 2048;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Model files of a level read and decoded at once when it loads. */
const MEMBERS_LOADED_AT_ONCE = 4;

/**
 * One run, loaded from a store: manifest, analysis, predictions and labels, plus per-image data
 * derived once (modal labels, modal vote counts, taxicab scores, PIE flags) — all of it
 * [levels × N] or [levels × K × N], never images × classes: vote counts are recounted sparsely
 * per image (at most K distinct votes) when an answer needs them. Class indices are 1 or 2
 * bytes as the manifest says (lib/class-array.ts). Evaluation images ([h × w × c] each, as
 * inputShapeOf says) are not held: each is read on its own by range and checked against its
 * SHA-256 in eval/images.sha256 (runs written before that file existed load their image file
 * whole, as before). Every file is checked against the manifest's SHA-256 when read. Model
 * weights load lazily per level, on the first live prediction that needs them, into the
 * repository's predictor cache (a memory budget, whole levels evicted least recently used).
 */
export class LoadedRun {
  readonly levels: number;
  readonly K: number;
  readonly N: number;
  readonly numClasses: number;
  /** [levels × N] modal label. */
  readonly modal: ClassArray;
  /** [levels × N] how many of the level's K members vote for its modal label. */
  readonly modalVotes: Uint16Array;
  /** [levels × N] taxicab distance to the dense vote distribution (0…2). */
  readonly taxicab: Float32Array;
  /** [levels][N] whether image i is a PIE at level t. */
  readonly isPie: Uint8Array;
  /** Bytes of one evaluation image (height × width × channels). */
  readonly imageBytes: number;
  /** Strong ETag for everything derived from this run (runs are immutable). */
  readonly etag: string;
  constructor(
    readonly manifest: Manifest,
    readonly summary: RunSummary,
    /** [levels × K × N] */
    readonly predictions: ClassArray,
    /** [N] */
    readonly labels: ClassArray,
    /** Where images come from: SHA-256 per image [N × 32] for range reads, or the whole (verified) image file. */
    private readonly images: { hashes: Uint8Array } | { all: Uint8Array },
    private readonly store: Store,
    manifestHash: string,
    private readonly cache: PredictorCache = new PredictorCache(Infinity),
  ) {
    this.levels = manifest.levels.length;
    this.K = manifest.K;
    this.N = manifest.dataset.testSize;
    this.numClasses = manifest.dataset.numClasses;
    this.etag = `"${manifestHash.slice(0, 32)}"`;
    const imagesEntry = manifest.files.find((f) => f.path === RUN_FILES.evalImages);
    this.imageBytes = imagesEntry ? imagesEntry.bytes / this.N : 0;
    const [h, w, c] = inputShapeOf(manifest);
    if (this.imageBytes !== h * w * c) {
      throw new CorruptRun(`run ${this.runId}: ${RUN_FILES.evalImages} (${imagesEntry?.bytes ?? 'missing'} bytes) does not hold ${this.N} images of ${h}×${w}×${c}`);
    }
    if ('hashes' in images && images.hashes.length !== this.N * 32) {
      throw new CorruptRun(`run ${this.runId}: ${RUN_FILES.evalImageHashes} holds ${images.hashes.length / 32} hashes for ${this.N} images`);
    }
    try {
      ({ modal: this.modal, modalVotes: this.modalVotes, taxicab: this.taxicab } =
        imageVoteStats(predictions, this.levels, this.K, this.N, this.numClasses, summary.tieRule));
      assertLabels(labels, this.N, this.numClasses);
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw new CorruptRun(`run ${this.runId}: ${err.message}`);
      throw err;
    }
    this.isPie = new Uint8Array(this.levels * this.N);
    for (let t = 0; t < this.levels; t++) {
      for (let i = 0; i < this.N; i++) this.isPie[t * this.N + i] = this.modal[t * this.N + i] !== this.modal[i] ? 1 : 0;
    }
  }

  get runId(): string { return this.manifest.runId; }

  levelIndex(name: string): number {
    const t = this.manifest.levels.findIndex((l) => l.name === name);
    if (t < 0) throw new NotFound(`run ${this.runId} has no level '${name}' (levels: ${this.manifest.levels.map((l) => l.name).join(', ')})`);
    return t;
  }

  /** Evaluation image i, [height × width × channels] uint8: one range read, checked against its SHA-256. */
  async image(i: number): Promise<Uint8Array> {
    const { imageBytes: n } = this;
    if ('all' in this.images) return this.images.all.subarray(i * n, (i + 1) * n);
    const bytes = await readRange(this.store, `${this.runId}/${RUN_FILES.evalImages}`, i * n, n);
    if (!bytes) throw new CorruptRun(`run ${this.runId}: ${RUN_FILES.evalImages} is missing from the store`);
    if (bytes.length !== n || !equalBytes(await sha256Bytes(bytes), this.images.hashes.subarray(i * 32, (i + 1) * 32))) {
      throw new CorruptRun(`run ${this.runId}: evaluation image ${i} does not match its SHA-256 in ${RUN_FILES.evalImageHashes}`);
    }
    return bytes;
  }

  /** A file of the run, checked against the manifest's size and SHA-256. */
  readFile(path: string): Promise<Uint8Array> {
    return readVerified(this.store, this.runId, this.manifest, path);
  }

  /** Bytes of level t's model files (what its predictors hold once loaded, about). */
  levelFileBytes(t: number): number {
    return this.manifest.levels[t].members.reduce((a, m) => a + (this.manifest.files.find((f) => f.path === m.model)?.bytes ?? 0), 0);
  }

  /**
   * Runs `use` with level t's K predictors, loaded and hash-checked on first use and kept in the
   * predictor cache while the memory budget allows (422 if the level alone exceeds it).
   */
  withPredictors<T>(t: number, use: (predictors: Predictor[]) => T): Promise<T> {
    return this.cache.with(this.levelKey(t), this.levelWhat(t), this.levelFileBytes(t),
      () => this.mapModelFiles(t, (bytes) => createPredictor(decodeModel(bytes))),
      use);
  }

  /** Level t's members' model files, each checked against the manifest's size and SHA-256. */
  levelModelFiles(t: number): Promise<Uint8Array[]> {
    return this.mapModelFiles(t, (bytes) => bytes);
  }

  /**
   * `f` of each of level t's members' model files (checked against the manifest), in member
   * order. A few files are read at a time, each handed to `f` as it arrives: all of a level's files
   * at once (41 MB for the paper run's p10) would sit in an isolate beside the weights already loaded.
   */
  private mapModelFiles<R>(t: number, f: (bytes: Uint8Array) => R): Promise<R[]> {
    const reads = new Semaphore(MEMBERS_LOADED_AT_ONCE);
    return Promise.all(this.manifest.levels[t].members.map((m) => reads.run(async () => f(await readVerified(this.store, this.runId, this.manifest, m.model)))));
  }

  /** Level t's key in a predictor cache (run ids are unique and runs immutable). */
  levelKey(t: number): string {
    return `${this.runId}/${this.manifest.levels[t].name}`;
  }

  /** Level t as error messages name it. */
  levelWhat(t: number): string {
    return `level ${this.manifest.levels[t].name} of run ${this.runId}`;
  }

  /** Bytes of the run's lookup data held in memory: predictions, labels, derived arrays, image hashes or images (for the memory report). */
  loadedBytes(): number {
    const images = 'all' in this.images ? this.images.all : this.images.hashes;
    return this.predictions.byteLength + this.labels.byteLength + images.byteLength +
      this.modal.byteLength + this.modalVotes.byteLength + this.taxicab.byteLength + this.isPie.byteLength;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function readVerified(store: Store, runId: string, manifest: Manifest, path: string): Promise<Uint8Array> {
  const entry: FileEntry | undefined = manifest.files.find((f) => f.path === path);
  if (!entry) throw new CorruptRun(`run ${runId}: ${path} is not listed in its manifest`);
  const bytes = await store.get(`${runId}/${path}`);
  if (!bytes) throw new CorruptRun(`run ${runId}: ${path} is missing from the store`);
  if (bytes.length !== entry.bytes || (await sha256Hex(bytes)) !== entry.sha256) {
    throw new CorruptRun(`run ${runId}: ${path} does not match its manifest (size or SHA-256)`);
  }
  return bytes;
}

/**
 * Loaded runs kept at once by default. A `quick` run with every level's models loaded holds about
 * 41 MB with compact weights (README, `npm run bench:api`): two fit a Workers isolate's 128 MB beside
 * the predictor budget, three would not.
 */
export const DEFAULT_MAX_LOADED_RUNS = 2;

export interface RepositoryOptions {
  /** How long the `latest` pointer is trusted before it is read again (default 30 s). */
  latestTtlMs?: number;
  /** After the store failed, how long until it is asked again (default 5 s): meanwhile the last good answers serve. */
  retryMs?: number;
  /** How long a damaged run's refusal is kept before its files are read again (default 60 s). */
  failureTtlMs?: number;
  /** Loaded runs kept at once (default DEFAULT_MAX_LOADED_RUNS); the least recently used goes first. */
  maxRuns?: number;
}

/**
 * Resolves run ids ('latest' or a named run) to loaded runs. The last `maxRuns` runs asked for
 * stay loaded (least recently used goes first), so requests naming many run ids cannot fill an
 * isolate's 128 MB; a run asked for again after eviction is loaded (and verified) again.
 * When the store is unreachable, the last good `latest` pointer and run list keep serving
 * (stale-if-error; `stale` says since when and why). A damaged run's refusal is cached, so that
 * a bad run is not re-read and re-hashed per request (app.onError logs it once).
 */
export class RunRepository {
  private cache: LRUCache<string, Promise<LoadedRun>>;
  private latest: { id: string; at: number } | null = null;
  private runList: string[] | null = null;
  private outage: { since: number; reason: string; retryAt: number } | null = null;
  private damaged = new Map<string, { error: CorruptRun; at: number }>();
  private readonly opts: Required<RepositoryOptions>;

  constructor(readonly store: Store, options: RepositoryOptions = {}, /** Loaded predictors of every run, within one memory budget. */ readonly predictors = new PredictorCache(DEFAULT_PREDICTOR_BUDGET_MB * MB)) {
    this.opts = { latestTtlMs: 30_000, retryMs: 5_000, failureTtlMs: 60_000, maxRuns: DEFAULT_MAX_LOADED_RUNS, ...options };
    this.cache = new LRUCache({ max: this.opts.maxRuns });
  }

  get maxRuns(): number {
    return this.opts.maxRuns;
  }

  /** Run ids loaded now, most recently used first. */
  loadedIds(): string[] {
    return [...this.cache.keys()];
  }

  /** Why answers may be stale (the store is unreachable), or null. */
  get stale(): string | null {
    return this.outage ? `the store has been unreachable since ${new Date(this.outage.since).toISOString()} (${this.outage.reason}); serving the last good data` : null;
  }

  /** What /health reports: the outage, and each damaged run whose refusal is cached. */
  problems(): string[] {
    const now = Date.now();
    const out = this.stale ? [this.stale] : [];
    for (const [id, d] of this.damaged) if (now - d.at < this.opts.failureTtlMs) out.push(`run ${id} is damaged: ${d.error.message}`);
    return out;
  }

  /** Runs a store read; on failure, the last good value if there is one (and the outage is noted). */
  private async fromStore<T>(read: () => Promise<T>, lastGood: T | null): Promise<T> {
    if (lastGood !== null && this.outage && Date.now() < this.outage.retryAt) return lastGood;
    try {
      const v = await read();
      this.outage = null;
      return v;
    } catch (err) {
      if (err instanceof NotFound || lastGood === null) throw err;
      const now = Date.now();
      this.outage = { since: this.outage?.since ?? now, reason: (err as Error).message?.slice(0, 200) || String(err), retryAt: now + this.opts.retryMs };
      return lastGood;
    }
  }

  async latestId(): Promise<string> {
    if (this.latest && Date.now() - this.latest.at < this.opts.latestTtlMs) return this.latest.id;
    const id = await this.fromStore(async () => {
      const text = await getText(this.store, LATEST_KEY);
      const found = text?.trim();
      if (!found) throw new NotFound('no run has been published yet (the store has no latest pointer)');
      this.latest = { id: found, at: Date.now() };
      return found;
    }, this.latest?.id ?? null);
    return id;
  }

  /** Ids of the runs in the store (a finished run has a manifest at <id>/manifest.json). */
  async runIds(): Promise<string[]> {
    return this.fromStore(async () => {
      const keys = await this.store.list('');
      this.runList = keys.filter((k) => k.key.endsWith(`/${RUN_FILES.manifest}`) && k.key.split('/').length === 2).map((k) => k.key.split('/')[0]);
      return this.runList;
    }, this.runList);
  }

  async get(idOrLatest: string): Promise<LoadedRun> {
    const id = idOrLatest === 'latest' ? await this.latestId() : idOrLatest;
    if (!RUN_ID.test(id)) throw new NotFound(`no run '${id.slice(0, 120)}' (run ids use letters, digits, '.', '_' and '-')`);
    const bad = this.damaged.get(id);
    if (bad && Date.now() - bad.at < this.opts.failureTtlMs) throw bad.error;
    let p = this.cache.get(id);
    if (!p) {
      p = this.load(id);
      p.catch((err) => {
        if (this.cache.peek(id) === p) this.cache.delete(id);
        if (err instanceof CorruptRun) this.damaged.set(id, { error: err, at: Date.now() });
      });
      this.cache.set(id, p);
    }
    return p;
  }

  /**
   * A run's manifest alone, without its data or weights (what /ml/setup can read within Label
   * Studio's 3 s), or null if the store has no such run.
   */
  async manifestOf(idOrLatest: string): Promise<Manifest | null> {
    const id = idOrLatest === 'latest' ? await this.latestId() : idOrLatest;
    if (!RUN_ID.test(id)) return null;
    const loaded = this.cache.get(id);
    if (loaded) return (await loaded).manifest;
    const text = await getText(this.store, `${id}/${RUN_FILES.manifest}`);
    if (text === null) return null;
    try {
      return parseManifest(text);
    } catch (err) {
      if (err instanceof ManifestError) throw new CorruptRun(`run ${id}: ${err.message}`);
      throw err;
    }
  }

  private async load(id: string): Promise<LoadedRun> {
    const manifestBytes = await this.store.get(`${id}/${RUN_FILES.manifest}`);
    if (!manifestBytes) throw new NotFound(`no run '${id}' in the store`);
    let manifest: Manifest;
    try {
      manifest = parseManifest(new TextDecoder().decode(manifestBytes));
    } catch (err) {
      if (err instanceof ManifestError) throw new CorruptRun(`run ${id}: ${err.message}`);
      throw err;
    }
    const classBytes = classBytesOf(manifest);
    // Runs with per-image hashes have their images read one at a time; older runs load the file.
    const byRange = manifest.files.some((f) => f.path === RUN_FILES.evalImageHashes);
    const [analysis, predictions, labels, images] = await Promise.all([
      readVerified(this.store, id, manifest, RUN_FILES.analysis),
      readVerified(this.store, id, manifest, RUN_FILES.predictions),
      readVerified(this.store, id, manifest, RUN_FILES.evalLabels),
      readVerified(this.store, id, manifest, byRange ? RUN_FILES.evalImageHashes : RUN_FILES.evalImages),
    ]);
    const summary = JSON.parse(new TextDecoder().decode(analysis)) as RunSummary;
    return new LoadedRun(manifest, summary, classArrayFromBytes(predictions, classBytes, RUN_FILES.predictions),
      classArrayFromBytes(labels, classBytes, RUN_FILES.evalLabels), byRange ? { hashes: images } : { all: images },
      this.store, await sha256Hex(manifestBytes), this.predictors);
  }
}
