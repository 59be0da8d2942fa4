/**
 * bench:kernels --arch lenet5|resnet: inference speed of a random CNN (28×28×1, 10 classes) per
 * kind and sparsity, the JS reference kernels and the wasm kernels side by side in one process.
 * Speed, size and agreement are meaningful, accuracy is not (random weights, randomly pruned
 * per kernel).
 */
import { type Architecture, checkArch, createPredictor, encodeModel, forwardMacs, lenet5Arch, resnetArch, toArchModel, type CompactModel, type ModelKind } from '../../lib/model/index.ts';
import { randomArchWeights, randomImages } from '../../lib/model/testing.ts';
import type { ClassArray } from '../../lib/class-array.ts';
import { timed } from './timed.ts';
import { median } from '../../node/bench-references.ts';

export function archBench(name: 'lenet5' | 'resnet', images: number, seed: number, data?: { xs: Float32Array; n: number }): void {
  const arch: Architecture = name === 'lenet5' ? lenet5Arch([28, 28, 1], 10) : resnetArch([28, 28, 1], 10, { depth: 20 });
  const len = 28 * 28;
  const n = Math.min(data?.n ?? images, name === 'lenet5' ? 300 : 60);
  const xs = data ? data.xs.subarray(0, n * len) : randomImages(n, len, seed + 1);
  const calibration = xs.subarray(0, Math.min(100, n) * len);
  const macs = forwardMacs(arch);
  console.log(`${name} (${arch.ops.length} ops, ${(macs / 1e6).toFixed(3)} M MACs per image), ${n} images (${data ? 'IDX' : 'synthetic'}), seed ${seed}, Node ${process.version}`);
  console.log('images/s per CPU-second of this process (user + system), so that other load on the machine counts less; one core.');
  // Each JS rate is timed once for at least minMs of CPU; the wasm rates, which the ratios below
  // compare, are medians over rounds that interleave all models, so that a change in the
  // machine's load affects all of them alike. Seconds in all at CI's small sizes.
  const minMs = Math.max(20, Math.min(300, n));
  const ROUNDS = 9;
  interface Entry { kind: ModelKind; sparsity: number; model: CompactModel; ref?: () => ClassArray; js: number; wasm: number[]; labels?: ClassArray; same: number; identical: number }
  const entries: Entry[] = [];
  const add = (kind: ModelKind, sparsity: number, model: CompactModel, ref?: () => ClassArray) => {
    const e: Entry = { kind, sparsity, model, ref, js: 0, wasm: [], same: 0, identical: 0 };
    entries.push(e);
    return e;
  };
  const dense: Record<number, Entry> = {};
  for (const s of [0, 0.5, 0.9, 0.99]) {
    const w = randomArchWeights(arch, seed, s);
    dense[s] = add('dense-f32', s, toArchModel(w, 'dense-f32'));
    add('sparse-f32', s, toArchModel(w, 'sparse-f32'), () => dense[s].labels!);
  }
  const w = randomArchWeights(arch, seed, 0);
  add('f16', 0, toArchModel(w, 'f16'), () => dense[0].labels!);
  const dyn = add('int8-dynamic', 0, toArchModel(w, 'int8-dynamic'), () => dense[0].labels!);
  const full = add('int8-full', 0, toArchModel(w, 'int8-full', { calibration, n: Math.min(100, n) }), () => dense[0].labels!);
  const wasm = entries.map((e) => createPredictor(e.model));
  const out = new Float32Array(arch.classes);
  for (const [i, e] of entries.entries()) {
    if (wasm[i].kernels !== 'wasm') throw new Error(`${e.kind} did not load on the wasm kernels`);
    const js = createPredictor(e.model, { kernels: 'js' });
    e.js = (n * 1e6) / timed(() => js.predictBatch(xs, n), minMs).cpuUs;
    e.labels = wasm[i].predictBatch(xs, n);
    const jsLabels = js.predictBatch(xs, n);
    // int8 kinds are integer arithmetic on both sides: every logit must be identical.
    for (let k = 0; k < n; k++) {
      const x = xs.subarray(k * len, (k + 1) * len);
      const a = [...js.logits(x, out)];
      if (wasm[i].logits(x, out).every((v, o) => Object.is(v, a[o]))) e.identical++;
    }
    e.same = [...e.labels].filter((c, k) => c === jsLabels[k]).length / n;
  }
  for (let r = 0; r < ROUNDS; r++) entries.forEach((e, i) => e.wasm.push((n * 1e6) / timed(() => wasm[i].predictBatch(xs, n), minMs / 3).cpuUs));
  const rows: string[][] = [];
  const rates: Record<string, { js: number; wasm: number }> = {};
  entries.forEach((e, i) => {
    const rate = median(e.wasm);
    rates[`${e.kind} ${e.sparsity}`] = { js: e.js, wasm: rate };
    const ref = e.ref?.();
    const agree = ref ? [...e.labels!].filter((c, k) => c === ref[k]).length / n : 1;
    rows.push([e.kind, `${Math.round(e.sparsity * 100)} %`, (encodeModel(e.model).length / 1024).toFixed(1), (wasm[i].memoryBytes / 1024).toFixed(1),
      e.js.toFixed(0), rate.toFixed(0), `${(rate / e.js).toFixed(1)}×`, ((rate * macs) / 1e9).toFixed(2),
      `${(100 * agree).toFixed(1)} %`, `${(100 * e.same).toFixed(1)} %`, e.kind.startsWith('int8') ? `${e.identical}/${n}` : '']);
  });
  for (const p of wasm) p.release();
  const head = ['kind', 'sparsity', 'file KiB', 'loaded KiB', 'JS img/s', 'wasm img/s', 'wasm/JS', 'wasm GMAC/s', 'agrees w/ dense', 'wasm = JS argmax', 'int8 logits = JS'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((wd, c) => (c < 2 ? `${'-'.repeat(wd + 1)}-` : `${'-'.repeat(wd + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  // wasm ratios: the median over rounds of the ratio within each round (a round's load is shared).
  const byKey = new Map(entries.map((e) => [`${e.kind} ${e.sparsity}`, e.wasm]));
  const wasmRatio = (a: string, b: string) => median(byKey.get(a)!.map((v, r) => v / byKey.get(b)![r]));
  const ratio = (kind: string, k: 'js' | 'wasm') => [0.5, 0.9, 0.99].map((s) =>
    (k === 'js' ? rates[`${kind} ${s}`].js / rates[`${kind} 0`].js : wasmRatio(`${kind} ${s}`, `${kind} 0`)).toFixed(1)).join(' / ');
  console.log(`sparse 50/90/99 % vs sparse 0 % (held dense), images/s: JS ${ratio('sparse-f32', 'js')}×, wasm ${ratio('sparse-f32', 'wasm')}× (dense-f32 of the same weights: wasm ${ratio('dense-f32', 'wasm')}×)`);
  const vsDense = (kind: string) => wasmRatio(`${kind} 0`, 'dense-f32 0').toFixed(2);
  console.log(`wasm vs dense f32 wasm, images/s: f16 ${vsDense('f16')}×, int8-dynamic ${vsDense('int8-dynamic')}×, int8-full ${vsDense('int8-full')}× (ratios: medians of ${ROUNDS} interleaved rounds' ratios)`);
  if (name === 'lenet5') {
    // lenet5's convolution layers alone: its conv and pooling ops with the same weights (paramSpecs
    // lists them first), then global pooling and a 16 → 10 layer in place of the 48 000 + 10 000
    // MAC classifier, whose sparse form is a scalar scatter (time falls only beyond ~50 %).
    const convOps = arch.ops.slice(0, arch.ops.findIndex((op) => op.op === 'dense'));
    const last = convOps[convOps.length - 1].output;
    const features: Architecture = checkArch({ ...arch, ops: [...convOps, { op: 'gap', input: last, output: 'gap' },
      { op: 'dense', name: 'fc', input: 'gap', output: 'fc', units: arch.classes, relu: false }], output: 'fc' });
    const ps = [0, 0.5, 0.9, 0.99].map((sp) => createPredictor(toArchModel(randomArchWeights(features, seed, sp), 'sparse-f32')));
    const t = ps.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) ps.forEach((p, i) => t[i].push(1 / timed(() => p.predictBatch(xs, n), minMs / 3).cpuUs));
    console.log(`lenet5's convolution layers alone, sparse 50/90/99 % vs 0 %, images/s: wasm ${[1, 2, 3].map((i) => median(t[i].map((v, r) => v / t[0][r])).toFixed(1)).join(' / ')}×`);
    for (const p of ps) p.release();
  }
  const exact = dyn.identical === n && full.identical === n;
  console.log(`int8 logits of the wasm kernels identical to the JS reference kernels on ${exact ? `all ${n} images` : `only ${dyn.identical} (dynamic) and ${full.identical} (full) of ${n} images`}`);
  if (!exact) process.exitCode = 1;
}
