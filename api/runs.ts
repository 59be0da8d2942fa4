import { modalFromCounts, taxicabFromCounts, voteCounts, type RunSummary } from '../lib/analysis/index.ts';
import { sha256Hex } from '../lib/hash.ts';
import { ManifestError, parseManifest, RUN_FILES, type FileEntry, type LevelEntry, type Manifest } from '../lib/manifest.ts';
import { createPredictor, decodeModel, type Predictor } from '../lib/model/index.ts';
import { LATEST_KEY, getText, type Store } from '../lib/store.ts';
import { CorruptRun, NotFound } from './errors.ts';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * One run, loaded from a store: manifest, analysis, predictions, evaluation images and labels,
 * plus per-image data derived once (vote counts, modal labels, taxicab scores). Every file is
 * checked against the manifest's SHA-256 when read. Model weights load lazily per level, on the
 * first live prediction that needs them, and stay cached for the life of the isolate/process.
 */
export class LoadedRun {
  readonly levels: number;
  readonly K: number;
  readonly N: number;
  readonly numClasses: number;
  /** [levels × N × C] votes per class. */
  readonly counts: Uint16Array;
  /** [levels × N] modal label. */
  readonly modal: Uint8Array;
  /** [levels × N] taxicab distance to the dense vote distribution (0…2). */
  readonly taxicab: Float32Array;
  /** [levels][N] whether image i is a PIE at level t. */
  readonly isPie: Uint8Array;
  /** Strong ETag for everything derived from this run (runs are immutable). */
  readonly etag: string;
  private predictors = new Map<string, Promise<Predictor[]>>();

  constructor(
    readonly manifest: Manifest,
    readonly summary: RunSummary,
    readonly predictions: Uint8Array,
    readonly labels: Uint8Array,
    readonly images: Uint8Array,
    private readonly store: Store,
    manifestHash: string,
  ) {
    this.levels = manifest.levels.length;
    this.K = manifest.K;
    this.N = manifest.dataset.testSize;
    this.numClasses = manifest.dataset.numClasses;
    this.etag = `"${manifestHash.slice(0, 32)}"`;
    // Vote counts once; modal labels and taxicab scores per level from them.
    this.counts = voteCounts(predictions, this.levels, this.K, this.N, this.numClasses);
    this.modal = new Uint8Array(this.levels * this.N);
    this.taxicab = new Float32Array(this.levels * this.N);
    const size = this.N * this.numClasses;
    const dense = this.counts.subarray(0, size);
    for (let t = 0; t < this.levels; t++) {
      const level = this.counts.subarray(t * size, (t + 1) * size);
      modalFromCounts(level, this.N, this.numClasses, summary.tieRule, this.modal.subarray(t * this.N, (t + 1) * this.N));
      taxicabFromCounts(level, dense, this.K, this.N, this.numClasses, this.taxicab.subarray(t * this.N, (t + 1) * this.N));
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

  /** The level's K predictors, loaded and hash-checked on first use. */
  predictorsFor(level: LevelEntry): Promise<Predictor[]> {
    let p = this.predictors.get(level.name);
    if (!p) {
      p = Promise.all(level.members.map(async (m) => createPredictor(decodeModel(await readVerified(this.store, this.runId, this.manifest, m.model)))));
      p.catch(() => this.predictors.delete(level.name));
      this.predictors.set(level.name, p);
    }
    return p;
  }

  /** Bytes of weights and derived arrays held in memory (for the memory report). */
  loadedBytes(): number {
    return this.predictions.byteLength + this.labels.byteLength + this.images.byteLength + this.counts.byteLength +
      this.modal.byteLength + this.taxicab.byteLength + this.isPie.byteLength;
  }
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

/** Resolves run ids ('latest' or a named run) to loaded runs, caching each for the isolate's life. */
export class RunRepository {
  private cache = new Map<string, Promise<LoadedRun>>();
  private latest: { id: string; at: number } | null = null;

  constructor(readonly store: Store, private readonly latestTtlMs = 30_000) {}

  async latestId(): Promise<string> {
    if (this.latest && Date.now() - this.latest.at < this.latestTtlMs) return this.latest.id;
    const text = await getText(this.store, LATEST_KEY);
    const id = text?.trim();
    if (!id) throw new NotFound('no run has been published yet (the store has no latest pointer)');
    this.latest = { id, at: Date.now() };
    return id;
  }

  async get(idOrLatest: string): Promise<LoadedRun> {
    const id = idOrLatest === 'latest' ? await this.latestId() : idOrLatest;
    if (!RUN_ID.test(id)) throw new NotFound(`no run '${id.slice(0, 120)}' (run ids use letters, digits, '.', '_' and '-')`);
    let p = this.cache.get(id);
    if (!p) {
      p = this.load(id);
      p.catch(() => this.cache.delete(id));
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
    const [analysis, predictions, labels, images] = await Promise.all([
      readVerified(this.store, id, manifest, RUN_FILES.analysis),
      readVerified(this.store, id, manifest, RUN_FILES.predictions),
      readVerified(this.store, id, manifest, RUN_FILES.evalLabels),
      readVerified(this.store, id, manifest, RUN_FILES.evalImages),
    ]);
    const summary = JSON.parse(new TextDecoder().decode(analysis)) as RunSummary;
    return new LoadedRun(manifest, summary, predictions, labels, images, this.store, await sha256Hex(manifestBytes));
  }
}
