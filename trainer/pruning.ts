/**
 * Gradual magnitude pruning (Zhu & Gupta 2017), as METHOD.md "Pruning" specifies:
 * s(step) = s_f + (s_i − s_f)(1 − p)^3, p = clip((step − begin)/(end − begin), 0, 1), s_i = 0.
 */
export interface PruningSchedule {
  /** Final sparsity s_f in [0, 1). */
  target: number;
  /** Step at which pruning starts (masks stay all-ones before it). */
  begin: number;
  /** Step at which the target is reached. */
  end: number;
  /** Masks are recomputed every `frequency` steps (and applied after every update). */
  frequency: number;
}

/**
 * The schedule of a member pruned to `target` over `totalSteps`, its window given as fractions of
 * training (METHOD.md); null for a dense member. The window spans at least one step.
 */
export function pruningSchedule(
  target: number,
  window: { begin: number; end: number; frequency: number },
  totalSteps: number,
): PruningSchedule | null {
  if (target <= 0) return null;
  const begin = Math.round(window.begin * totalSteps);
  return { target, begin, end: Math.max(begin + 1, Math.round(window.end * totalSteps)), frequency: window.frequency };
}

export function sparsityAt(step: number, s: PruningSchedule): number {
  const span = Math.max(1, s.end - s.begin);
  const p = Math.min(1, Math.max(0, (step - s.begin) / span));
  return s.target + (0 - s.target) * (1 - p) ** 3;
}

/** Whether the mask is recomputed at `step`: every `frequency` steps inside [begin, end], and at end. */
export function isMaskUpdateStep(step: number, s: PruningSchedule): boolean {
  if (step < s.begin || step > s.end) return false;
  return (step - s.begin) % s.frequency === 0 || step === s.end;
}

/**
 * Keeps exactly k = round(n(1 − s)) weights of largest |w| (METHOD.md: per-tensor threshold),
 * writing 1/0 into `mask`. Ties at the threshold are broken by index so the count is exact.
 */
export function magnitudeMask(weights: Float32Array, sparsity: number, mask = new Float32Array(weights.length)): Float32Array {
  const n = weights.length;
  const k = Math.round(n * (1 - sparsity));
  if (k >= n) return mask.fill(1);
  if (k <= 0) return mask.fill(0);
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) abs[i] = Math.abs(weights[i]);
  // The value a sort of abs would put at index n − k.
  const threshold = kthSmallest(abs, n - k);
  // Everything strictly above the threshold is kept; then threshold ties fill the rest up to k.
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const keep = abs[i] > threshold ? 1 : 0;
    mask[i] = keep;
    kept += keep;
  }
  for (let i = 0; i < n && kept < k; i++) {
    if (abs[i] === threshold) { mask[i] = 1; kept++; }
  }
  return mask;
}

/**
 * The value at index `rank` of `values` sorted ascending (values ≥ 0 or NaN, as |w| are), by a
 * two-pass radix select on the float bits, which order non-negative floats as their values (NaN
 * last, as a sort puts it). A sort of LeNet-300-100's first layer took 20–50 ms, and a mask update
 * sorts every layer; this takes about 1 ms.
 */
export function kthSmallest(values: Float32Array, rank: number): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const hist = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) hist[bits[i] >>> 16]++;
  let below = 0, hi = 0;
  while (below + hist[hi] <= rank) below += hist[hi++];
  hist.fill(0);
  for (let i = 0; i < bits.length; i++) if (bits[i] >>> 16 === hi) hist[bits[i] & 0xffff]++;
  let lo = 0;
  while (below + hist[lo] <= rank) below += hist[lo++];
  return new Float32Array(new Uint32Array([((hi << 16) | lo) >>> 0]).buffer)[0];
}

/** Fraction of exact zeros. */
export function measuredSparsity(weights: Float32Array): number {
  let zeros = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] === 0) zeros++;
  return zeros / weights.length;
}
