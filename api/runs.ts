import { LRUCache } from 'lru-cache';
import { imageVoteStats, type RunSummary } from '../lib/analysis/index.ts';
import { assertLabels } from '../lib/analysis/validate.ts';
import { type ClassArray, classArrayFromBytes } from '../lib/class-array.ts';
import { sha256Bytes, sha256Hex } from '../lib/hash.ts';
import { classBytesOf, ManifestError, parseManifest, RUN_FILES, type FileEntry, type LevelEntry, type Manifest } from '../lib/manifest.ts';
import { createPredictor, decodeModel, type Predictor } from '../lib/model/index.ts';
import { LATEST_KEY, getText, readRange, type Store } from '../lib/store.ts';
import { CorruptRun, NotFound } from './errors.ts';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * One run, loaded from a store: manifest, analysis, predictions and labels, plus per-image data
 * derived once (modal labels, modal vote counts, taxicab scores, PIE flags) — all of it
 * [levels × N] or [levels × K × N], never images × classes: vote counts are recounted sparsely
 * per image (at most K distinct votes) when an answer needs them. Class indices are 1 or 2
 * bytes as the manifest says (lib/class-array.ts). Evaluation images are not held: each is
 * read on its own by range and checked against its SHA-256 in eval/images.sha256 (runs
 * written before that file existed load their image file whole, as before). Every file is
 * checked against the manifest's SHA-256 when read. Model weights load lazily per level, on
 * the first live prediction that needs them, and stay cached for the life of the isolate/process.
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
  private predictors = new Map<string, Promise<Predictor[]>>();

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
  ) {
    this.levels = manifest.levels.length;
    this.K = manifest.K;
    this.N = manifest.dataset.testSize;
    this.numClasses = manifest.dataset.numClasses;
    this.etag = `"${manifestHash.slice(0, 32)}"`;
    const imagesEntry = manifest.files.find((f) => f.path === RUN_FILES.evalImages);
    this.imageBytes = imagesEntry ? imagesEntry.bytes / this.N : 0;
    if (!Number.isInteger(this.imageBytes) || this.imageBytes <= 0) {
      throw new CorruptRun(`run ${this.runId}: ${RUN_FILES.evalImages} (${imagesEntry?.bytes ?? 'missing'} bytes) does not hold ${this.N} equal images`);
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
 * 51 MB (README, `npm run bench:api`): two fit a Workers isolate's 128 MB, three would not.
 */
export const DEFAULT_MAX_LOADED_RUNS = 2;

/**
 * Resolves run ids ('latest' or a named run) to loaded runs. The last `maxRuns` runs asked for
 * stay loaded (least recently used goes first), so requests naming many run ids cannot fill an
 * isolate's 128 MB; a run asked for again after eviction is loaded (and verified) again.
 */
export class RunRepository {
  private cache: LRUCache<string, Promise<LoadedRun>>;
  private latest: { id: string; at: number } | null = null;

  constructor(readonly store: Store, private readonly latestTtlMs = 30_000, readonly maxRuns = DEFAULT_MAX_LOADED_RUNS) {
    this.cache = new LRUCache({ max: maxRuns });
  }

  /** Run ids loaded now, most recently used first. */
  loadedIds(): string[] {
    return [...this.cache.keys()];
  }

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
      p.catch(() => { if (this.cache.peek(id) === p) this.cache.delete(id); });
      this.cache.set(id, p);
    }
    return p;
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
      this.store, await sha256Hex(manifestBytes));
  }
}
