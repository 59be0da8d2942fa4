/**
 * WebAssembly text of the MLP inference kernels that lib/model/wasm/predictor.ts runs (spliced
 * into the module by source.ts's kernelsWat, whose block kernels $blk_f32, $blk_f16 and $blk_i8
 * they call). Generated for the same reason as source.ts: the unrolled variants are many
 * near-identical lines.
 *
 * What differs from the layer kernels in source.ts (kept as they are for lib/model/wasm/arch.ts):
 * - Nonzero lists test four inputs at once and skip an all-zero group with one branch.
 * - One image and a tile run the same register-blocked kernel: one image streams each 48-wide
 *   block of a row-major matrix once, which measured faster than streaming whole rows through an
 *   accumulator in memory, in cache and out of it.
 * - CSR over a tile runs with the images in the SIMD lanes ("transposed": activations are
 *   [features × lanes], lanes = 4, 8 or 16 images): each stored weight is one splat and one
 *   multiply-add per vector of images, so the time follows the number of stored weights. One
 *   image runs a scalar scatter over its nonzero inputs' rows.
 * - int8: the input quantization, the pair lists and the epilogues (requantization, scales,
 *   bias, ReLU) run two float64 lanes at a time, performing the same IEEE operations in the
 *   same order as the JS reference: the results stay bit-exact with kernels.ts.
 *
 * Summation order (the float kinds): every kernel here adds, per output, the bias, then the
 * products of the inputs in ascending order. They skip products differently (zero inputs per
 * image or per tile, pruned weights), and adding a product of zero leaves a sum unchanged unless
 * the sum is −0 — which it never is, because the loaders store biases with −0 made +0 (x + y is
 * −0 only when both are −0). So dense, CSR and f16-on-decoded-weights give identical logits,
 * and a tile gives what one image at a time does.
 */

const lines: string[] = [];
const emit = (s: string) => lines.push(s);

/**
 * Four binary16 values (`load`: a v128.load16x4_s) as float32 bits in registers: (h << 13) &
 * 0x8fffffff is the float32 w · 2^−112 exactly (sign, exponent and mantissa shifted into place);
 * f16Value multiplies by 2^112, giving w. Every f16 kernel widens this way.
 */
export const f16Bits = (load: string) => `(v128.and (i32x4.shl ${load} (i32.const 13)) (global.get $f16mask))`;
export const f16Value = (load: string) => `(f32x4.mul ${f16Bits(load)} (global.get $f16scale))`;

/** Lane widths of the transposed CSR kernel: vectors of 4 images per feature. */
export const CSR_T_VECTORS = [1, 2, 4] as const;

/** Bytes of one entry of an input list: (a, b, c) i32/f32 words, see nzList and the pair lists. */
export const ENTRY = 12;
/** Outputs per panel: a block of 12 accumulators of 4 lanes. */
export const PANEL = 48;
/**
 * A tile walks a full panel in slices of rows of at most about this many bytes of weights, every
 * image through one slice before the next, so that the slice stays in L1 (48 KiB here) while the
 * tile's images use it. Sums continue from y, in the same order: identical results. A slice of
 * about 37 KiB ran LeNet-300-100's first layer 1.10–1.14× as fast as the whole 150 KiB panel.
 */
const SLICE_BYTES = 40 * 1024;
/** Where the slices' bounds go in the tmp scratch: after a partial panel's 48 floats and f16's per-image flags (256 + 4 · TILE). */
const SLICE_BOUNDS = 512;
/** Bytes of tmp scratch that the dense kernels use for n images of inDim inputs (the bounds of their slices included). */
export const denseTmpBytes = (n: number, inDim: number) => SLICE_BOUNDS + n * Math.ceil((inDim * PANEL * 4) / SLICE_BYTES) * 4;

/**
 * Nonzero inputs of one image as entries (x[i], i · s1, i · s2) — the row's byte offset in a full
 * panel and in the last, narrower one — ENTRY bytes each; returns their count. Four inputs per
 * step: an all-zero group (background pixels, dead units) costs one compare; otherwise each lane
 * is written and the pointer advances past the nonzero ones. The tail (inDim mod 4) one at a time.
 * $nz12s stores x[i] · scale instead (f16's 2^112, see floatPanelBlock).
 */
function nzList(scaled: boolean): void {
  emit(`(func $nz12${scaled ? 's' : ''} (param $x i32) (param $inDim i32) (param $s1 i32) (param $s2 i32) (param $out i32)${scaled ? ' (param $scale f32)' : ''} (result i32)`);
  emit('  (local $i i32) (local $p i32) (local $end4 i32) (local $o1 i32) (local $o2 i32) (local $v f32) (local $xi i32)');
  emit('  (local.set $p (local.get $out))');
  emit('  (local.set $end4 (i32.and (local.get $inDim) (i32.const -4)))');
  const lane = (off: number, pad: string) => {
    emit(`${pad}(local.set $v (f32.load offset=${off} (local.get $xi)))`);
    emit(`${pad}(f32.store (local.get $p) ${scaled ? '(f32.mul (local.get $v) (local.get $scale))' : '(local.get $v)'}) (i32.store offset=4 (local.get $p) (local.get $o1)) (i32.store offset=8 (local.get $p) (local.get $o2))`);
    emit(`${pad}(local.set $p (i32.add (local.get $p) (select (i32.const ${ENTRY}) (i32.const 0) (f32.ne (local.get $v) (f32.const 0)))))`);
    emit(`${pad}(local.set $o1 (i32.add (local.get $o1) (local.get $s1))) (local.set $o2 (i32.add (local.get $o2) (local.get $s2)))`);
  };
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $end4)))');
  emit('    (local.set $xi (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))');
  emit('    (if (v128.any_true (f32x4.ne (v128.load (local.get $xi)) (global.get $zero))) (then');
  emit('      (local.set $o1 (i32.mul (local.get $i) (local.get $s1))) (local.set $o2 (i32.mul (local.get $i) (local.get $s2)))');
  for (let t = 0; t < 4; t++) lane(4 * t, '      ');
  emit('    ))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  emit('  (local.set $o1 (i32.mul (local.get $i) (local.get $s1))) (local.set $o2 (i32.mul (local.get $i) (local.get $s2)))');
  emit('  (block $d2 (loop $l2');
  emit('    (br_if $d2 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $xi (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))');
  lane(0, '    ');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l2)))');
  emit(`  (i32.div_u (i32.sub (local.get $p) (local.get $out)) (i32.const ${ENTRY})))`);
}

/**
 * Float block over one panel and one image: acc = bias; for each entry, acc += x · W[row] over
 * 4·V outputs; stores acc (ReLU'd if asked). The row's offset is the entry's word at `field`
 * (4: full panel, 8: the last panel). f16 is widened in registers as in source.ts: the bits
 * ((h << 13) & 0x8fffffff) are the float32 w · 2^−112, times 2^112. 'f16s' leaves that multiply
 * out, for entries whose x was stored times 2^112 ($nz12s): (x · 2^112) · (w · 2^−112) is the
 * real number x · w, so its float32 rounding, and every sum, is the same — provided x · 2^112
 * does not overflow, which the layer checks per image (|x| < 2^15, else it runs 'f16').
 */
function floatPanelBlock(kind: 'f32' | 'f16' | 'f16s', V: number, field: 4 | 8): void {
  emit(`(func $pb_${kind}_${V}_${field} (param $nz i32) (param $cnt i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32)`);
  emit(`  ${Array.from({ length: V }, (_, v) => `(local $a${v} v128)`).join(' ')} (local $xv v128) (local $r i32) (local $end i32)`);
  for (let v = 0; v < V; v++) emit(`  (local.set $a${v} (v128.load offset=${16 * v} (local.get $b)))`);
  emit(`  (local.set $end (i32.add (local.get $nz) (i32.mul (local.get $cnt) (i32.const ${ENTRY}))))`);
  emit('  (block $done (loop $next');
  emit('    (br_if $done (i32.ge_u (local.get $nz) (local.get $end)))');
  emit('    (local.set $xv (v128.load32_splat (local.get $nz)))');
  emit(`    (local.set $r (i32.add (local.get $w) (i32.load offset=${field} (local.get $nz))))`);
  for (let v = 0; v < V; v++) {
    const h = `(v128.load16x4_s offset=${8 * v} (local.get $r))`;
    const w = kind === 'f32' ? `(v128.load offset=${16 * v} (local.get $r))` : kind === 'f16' ? f16Value(h) : f16Bits(h);
    emit(`    (local.set $a${v} (f32x4.add (local.get $a${v}) (f32x4.mul (local.get $xv) ${w})))`);
  }
  emit(`    (local.set $nz (i32.add (local.get $nz) (i32.const ${ENTRY})))`);
  emit('    (br $next)))');
  emit('  (if (local.get $relu) (then');
  for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (f32x4.pmax (global.get $zero) (local.get $a${v})))`);
  emit('  ) (else');
  for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (local.get $a${v}))`);
  emit('  )))');
}

/** br_table dispatch on V (1 … max) to target(V). */
function dispatch(name: string, target: (V: number) => string, max: number, params: string, args: string): void {
  emit(`(func $${name} (param $V i32) ${params}`);
  let body = `(br_table ${Array.from({ length: max + 1 }, (_, v) => `$v${v}`).join(' ')} (local.get $V))`;
  for (let v = 0; v <= max; v++) body = `(block $v${v} ${body})${v === 0 ? ' (return)' : ` (call ${target(v)} ${args}) (return)`}`;
  emit(`  ${body}`);
  emit(')');
}

/**
 * Dense float layer over n images (n = 1 included): x [n × inDim] → y [n × outDim]. Weights in
 * panels ($kind f32 or f16, element size es): panel q holds columns [48q, 48q + width) of every
 * row, [inDim × width] row-major, the panels one after another (width 48 but for the last), so a
 * block streams its weights in address order; a tile of images walks each full panel in slices
 * (SLICE_BYTES). Scratch: nz [n × inDim × ENTRY bytes], cnt [n × 4], tmp [48 floats] for a last
 * panel whose width is not a multiple of 4, f16's flags at +256, the slices' bounds at +512
 * [n × slices × 4].
 */
function denseLayer(kind: 'f32' | 'f16'): void {
  const es = kind === 'f32' ? 4 : 2;
  const f16 = kind === 'f16';
  emit(`(func (export "mlp_dense_${kind}") (param $x i32) (param $n i32) (param $inDim i32) (param $outDim i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32) (param $nz i32) (param $cnt i32) (param $tmp i32)`);
  emit('  (local $j i32) (local $ob i32) (local $rem i32) (local $wp i32) (local $nzj i32) (local $nzStride i32) (local $cntj i32) (local $dst i32) (local $full i32) (local $xj i32) (local $fast i32)');
  emit('  (local $ns i32) (local $S i32) (local $s i32) (local $p i32) (local $end i32) (local $lim i32) (local $bnd i32) (local $at i32) (local $from i32) (local $yj i32)');
  emit(`  (local.set $nzStride (i32.mul (local.get $inDim) (i32.const ${ENTRY})))`);
  emit(`  (local.set $full (i32.sub (local.get $outDim) (i32.rem_u (local.get $outDim) (i32.const ${PANEL}))))`);
  emit(`  (local.set $rem (i32.sub (local.get $outDim) (local.get $full)))`);
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $xj (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 2))))');
  const args = `(local.get $xj) (local.get $inDim) (i32.const ${PANEL * es}) (i32.mul (local.get $rem) (i32.const ${es})) (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride)))`;
  if (f16) {
    // Per image, whether x · 2^112 stays finite (then 'f16s'); the flag goes after tmp's 48 floats.
    emit('    (local.set $fast (f32.lt (call $max_abs (local.get $xj) (local.get $inDim)) (f32.const 32768)))');
    emit('    (i32.store offset=256 (i32.add (local.get $tmp) (i32.shl (local.get $j) (i32.const 2))) (local.get $fast))');
    emit('    (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))');
    emit(`      (if (result i32) (local.get $fast) (then (call $nz12s ${args} (f32.const 0x1p112))) (else (call $nz12 ${args}))))`);
  } else {
    emit(`    (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2))) (call $nz12 ${args}))`);
  }
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  // Slices of a full panel's rows for a tile: ⌈panel bytes / SLICE_BYTES⌉ of them (one for one image).
  emit(`  (local.set $ns (select (i32.div_u (i32.add (i32.mul (local.get $inDim) (i32.const ${PANEL * es})) (i32.const ${SLICE_BYTES - 1})) (i32.const ${SLICE_BYTES})) (i32.const 1) (i32.gt_u (local.get $n) (i32.const 1))))`);
  emit('  (local.set $S (i32.div_u (i32.add (local.get $inDim) (i32.sub (local.get $ns) (i32.const 1))) (local.get $ns)))');
  // bnd[j · ns + s]: where image j's list leaves slice s (its entries are in ascending row order).
  // The last slice ends where the list does: one image (one slice) scans nothing.
  emit(`  (local.set $bnd (i32.add (local.get $tmp) (i32.const ${SLICE_BOUNDS})))`);
  emit('  (local.set $j (i32.const 0))');
  emit('  (block $db (loop $lb');
  emit('    (br_if $db (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $p (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride))))');
  emit(`    (local.set $end (i32.add (local.get $p) (i32.mul (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (i32.const ${ENTRY}))))`);
  emit('    (local.set $s (i32.const 0))');
  emit('    (block $ds (loop $ls');
  emit('      (br_if $ds (i32.ge_u (local.get $s) (local.get $ns)))');
  emit(`      (local.set $lim (i32.mul (i32.mul (i32.add (local.get $s) (i32.const 1)) (local.get $S)) (i32.const ${PANEL * es})))`);
  emit('      (if (i32.eq (i32.add (local.get $s) (i32.const 1)) (local.get $ns)) (then (local.set $p (local.get $end))))');
  emit('      (block $dq (loop $lq');
  emit('        (br_if $dq (i32.ge_u (local.get $p) (local.get $end)))');
  emit('        (br_if $dq (i32.ge_u (i32.load offset=4 (local.get $p)) (local.get $lim)))');
  emit(`        (local.set $p (i32.add (local.get $p) (i32.const ${ENTRY}))) (br $lq)))`);
  emit('      (i32.store (i32.add (local.get $bnd) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ns)) (local.get $s)) (i32.const 2))) (local.get $p))');
  emit('      (local.set $s (i32.add (local.get $s) (i32.const 1))) (br $ls)))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $lb)))');
  const fastOf = '(i32.load offset=256 (i32.add (local.get $tmp) (i32.shl (local.get $j) (i32.const 2))))';
  emit('  (local.set $wp (local.get $w))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $ob) (local.get $full)))');
  emit('    (local.set $s (i32.const 0))');
  emit('    (block $d4 (loop $l4');
  emit('      (br_if $d4 (i32.ge_u (local.get $s) (local.get $ns)))');
  emit('      (local.set $j (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('        (local.set $yj (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $outDim)) (local.get $ob)) (i32.const 2))))');
  emit('        (local.set $at (i32.add (local.get $bnd) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ns)) (local.get $s)) (i32.const 2))))');
  emit('        (local.set $from (select (i32.load offset=0 (i32.sub (local.get $at) (i32.const 4))) (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride))) (local.get $s)))');
  // The first slice starts from the bias, the others from the sums so far in y; the ReLU with the last.
  const fullArgs = `(local.get $from) (i32.div_u (i32.sub (i32.load (local.get $at)) (local.get $from)) (i32.const ${ENTRY})) (local.get $wp) ` +
    '(select (local.get $yj) (i32.add (local.get $b) (i32.shl (local.get $ob) (i32.const 2))) (local.get $s)) (local.get $yj) ' +
    '(select (local.get $relu) (i32.const 0) (i32.eq (i32.add (local.get $s) (i32.const 1)) (local.get $ns)))';
  if (f16) emit(`        (if ${fastOf} (then (call $pb_f16s_12_4 ${fullArgs})) (else (call $pb_f16_12_4 ${fullArgs})))`);
  else emit(`        (call $pb_f32_12_4 ${fullArgs})`);
  emit('        (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2)))');
  emit('      (local.set $s (i32.add (local.get $s) (i32.const 1))) (br $l4)))');
  emit(`    (local.set $wp (i32.add (local.get $wp) (i32.mul (local.get $inDim) (i32.const ${PANEL * es}))))`);
  emit(`    (local.set $ob (i32.add (local.get $ob) (i32.const ${PANEL}))) (br $l1)))`);
  emit('  (if (local.get $rem) (then');
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d3 (loop $l3');
  emit('      (br_if $d3 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (local.set $dst (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $outDim)) (local.get $full)) (i32.const 2))))');
  // Whole vectors are stored: a width that is not a multiple of 4 goes through tmp.
  const remArgs = '(i32.shr_u (i32.add (local.get $rem) (i32.const 3)) (i32.const 2)) (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride))) ' +
    '(i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (local.get $wp) (i32.add (local.get $b) (i32.shl (local.get $full) (i32.const 2))) ' +
    '(select (local.get $dst) (local.get $tmp) (i32.eqz (i32.and (local.get $rem) (i32.const 3)))) (local.get $relu)';
  if (f16) emit(`      (if ${fastOf} (then (call $pbp_f16s ${remArgs})) (else (call $pbp_f16 ${remArgs})))`);
  else emit(`      (call $pbp_f32 ${remArgs})`);
  emit('      (if (i32.and (local.get $rem) (i32.const 3)) (then (memory.copy (local.get $dst) (local.get $tmp) (i32.shl (local.get $rem) (i32.const 2)))))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l3)))');
  emit('  ))');
  emit(')');
}

/** max |x[i]| over n floats, NaN ignored (pmax(m, a) = m < a ? a : m); 0 for n = 0. */
function maxAbs(): void {
  emit('(func $max_abs (param $x i32) (param $n i32) (result f32)');
  emit('  (local $i i32) (local $end i32) (local $mv v128) (local $m f32) (local $a f32)');
  emit('  (local.set $end (i32.and (local.get $n) (i32.const -4)))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $end)))');
  emit('    (local.set $mv (f32x4.pmax (local.get $mv) (f32x4.abs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  emit('  (local.set $m (f32x4.extract_lane 0 (local.get $mv)))');
  for (let t = 1; t < 4; t++) emit(`  (local.set $a (f32x4.extract_lane ${t} (local.get $mv))) (if (f32.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))`);
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))');
  emit('    (local.set $a (f32.abs (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))');
  emit('    (if (f32.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('  (local.get $m))');
}

/**
 * f16 weights widened to float32, count values from src to dst: each binary16 as the float32 it
 * is exactly ((h << 13) & 0x8fffffff is w · 2^−112, times 2^112, as the f16 blocks compute it in
 * registers), four at a time, the last (count mod 4) one at a time. The MLP predictor widens a
 * batch's f16 layers with it, the conv nets an f16 layer's weights once per pass.
 */
function widenF16(): void {
  emit('(func (export "f16_widen") (param $src i32) (param $count i32) (param $dst i32)');
  emit('  (local $end4 i32) (local $end i32)');
  emit('  (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 2))))');
  emit('  (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 2))))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $dst) (local.get $end4)))');
  emit(`    (v128.store (local.get $dst) ${f16Value('(v128.load16x4_s (local.get $src))')})`);
  emit('    (local.set $src (i32.add (local.get $src) (i32.const 8))) (local.set $dst (i32.add (local.get $dst) (i32.const 16)))');
  emit('    (br $l)))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $dst) (local.get $end)))');
  emit('    (f32.store (local.get $dst) (f32.mul (f32.reinterpret_i32 (i32.and (i32.shl (i32.load16_s (local.get $src)) (i32.const 13)) (i32.const 0x8fffffff))) (f32.const 0x1p112)))');
  emit('    (local.set $src (i32.add (local.get $src) (i32.const 2))) (local.set $dst (i32.add (local.get $dst) (i32.const 4)))');
  emit('    (br $l1)))');
  emit(')');
}

/**
 * A CSR layer ([inDim × outDim], 16-bit column indices) written out as the dense float kernels'
 * panels (see denseLayer) at dst, zeros where nothing is stored.
 */
function csrToPanels(): void {
  emit(`(func (export "csr_panels") (param $inDim i32) (param $outDim i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $dst i32)`);
  emit('  (local $i i32) (local $k i32) (local $kend i32) (local $c i32) (local $q i32) (local $full i32) (local $width i32)');
  emit(`  (local.set $full (i32.sub (local.get $outDim) (i32.rem_u (local.get $outDim) (i32.const ${PANEL}))))`);
  emit('  (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.mul (local.get $inDim) (local.get $outDim)) (i32.const 2)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $k (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('    (local.set $kend (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $k) (local.get $kend)))');
  emit('      (local.set $c (i32.load16_u (i32.add (local.get $col) (i32.shl (local.get $k) (i32.const 1)))))');
  // Panel q starts at q · 48 · inDim floats (the panels before it are full); its rows are `width` wide.
  emit(`      (local.set $q (i32.div_u (local.get $c) (i32.const ${PANEL})))`);
  emit(`      (local.set $width (select (i32.const ${PANEL}) (i32.sub (local.get $outDim) (local.get $full)) (i32.lt_u (local.get $c) (local.get $full))))`);
  emit('      (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.add (i32.mul (i32.mul (local.get $q) (i32.const ' + PANEL + ')) (local.get $inDim))');
  emit(`        (i32.mul (local.get $i) (local.get $width))) (i32.sub (local.get $c) (i32.mul (local.get $q) (i32.const ${PANEL})))) (i32.const 2)))`);
  emit('        (f32.load (i32.add (local.get $val) (i32.shl (local.get $k) (i32.const 2)))))');
  emit('      (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $l1)))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l0)))');
  emit(')');
}

/**
 * CSR over one image: y = bias, then for each nonzero input (in order) its row's stored weights
 * are scattered into y (an [outDim] buffer in L1), four per step; then ReLU. acc must hold
 * outDim rounded up to 4 floats.
 */
function csrOne(): void {
  emit('(func (export "csr_1") (param $x i32) (param $inDim i32) (param $outDim i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $b i32) (param $y i32) (param $relu i32) (param $nz i32) (param $acc i32)');
  emit('  (local $pv v128) (local $xs v128) (local $e i32) (local $eend i32) (local $xv f32) (local $k i32) (local $c i32) (local $cend i32) (local $c4 i32) (local $v i32) (local $p i32) (local $a i32) (local $aend i32)');
  emit(`  (local.set $eend (i32.add (local.get $nz) (i32.mul (call $nz12 (local.get $x) (local.get $inDim) (i32.const 4) (i32.const 0) (local.get $nz)) (i32.const ${ENTRY}))))`);
  emit('  (memory.copy (local.get $acc) (local.get $b) (i32.shl (local.get $outDim) (i32.const 2)))');
  emit('  (local.set $e (local.get $nz))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $e) (local.get $eend)))');
  emit('    (local.set $xv (f32.load (local.get $e))) (local.set $xs (f32x4.splat (local.get $xv)))');
  emit('    (local.set $p (i32.add (local.get $rowPtr) (i32.load offset=4 (local.get $e))))');
  emit('    (local.set $k (i32.load (local.get $p)))');
  emit('    (local.set $c (i32.add (local.get $col) (i32.shl (local.get $k) (i32.const 1))))');
  emit('    (local.set $v (i32.add (local.get $val) (i32.shl (local.get $k) (i32.const 2))))');
  emit('    (local.set $cend (i32.add (local.get $col) (i32.shl (i32.load offset=4 (local.get $p)) (i32.const 1))))');
  emit('    (local.set $c4 (i32.sub (local.get $cend) (i32.const 6)))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_s (local.get $c) (local.get $c4)))');
  // Four products in one vector multiply, then four scalar read-add-writes.
  emit('      (local.set $pv (f32x4.mul (local.get $xs) (v128.load (local.get $v))))');
  for (let t = 0; t < 4; t++) {
    emit(`      (local.set $p (i32.add (local.get $acc) (i32.shl (i32.load16_u offset=${2 * t} (local.get $c)) (i32.const 2))))`);
    emit(`      (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32x4.extract_lane ${t} (local.get $pv))))`);
  }
  emit('      (local.set $c (i32.add (local.get $c) (i32.const 8))) (local.set $v (i32.add (local.get $v) (i32.const 16)))');
  emit('      (br $l1)))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $c) (local.get $cend)))');
  emit('      (local.set $p (i32.add (local.get $acc) (i32.shl (i32.load16_u (local.get $c)) (i32.const 2))))');
  emit('      (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $xv) (f32.load (local.get $v)))))');
  emit('      (local.set $c (i32.add (local.get $c) (i32.const 2))) (local.set $v (i32.add (local.get $v) (i32.const 4)))');
  emit('      (br $l2)))');
  emit(`    (local.set $e (i32.add (local.get $e) (i32.const ${ENTRY})))`);
  emit('    (br $l0)))');
  emit('  (if (local.get $relu) (then');
  emit('    (local.set $a (local.get $acc))');
  emit('    (local.set $aend (i32.add (local.get $acc) (i32.shl (local.get $outDim) (i32.const 2))))');
  emit('    (block $d3 (loop $l3');
  emit('      (br_if $d3 (i32.ge_u (local.get $a) (local.get $aend)))');
  emit('      (v128.store (local.get $a) (f32x4.pmax (global.get $zero) (v128.load (local.get $a))))');
  emit('      (local.set $a (i32.add (local.get $a) (i32.const 16)))');
  emit('      (br $l3)))))');
  emit('  (memory.copy (local.get $y) (local.get $acc) (i32.shl (local.get $outDim) (i32.const 2))))');
}

/**
 * CSR over a tile with the images in the lanes: xt [inDim × 4V], yt [outDim × 4V] (feature-major,
 * image-minor). yt = bias; for each input row with any nonzero lane, each stored weight w at
 * column c does yt[c] += xt[row] · w (V vectors); then ReLU.
 */
function csrTransposed(V: number): void {
  const shift = 4 + Math.log2(V); // bytes per feature row = 16·V
  emit(`(func (export "csr_t${V}") (param $xt i32) (param $inDim i32) (param $outDim i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $b i32) (param $yt i32) (param $relu i32)`);
  const xs = Array.from({ length: V }, (_, v) => `(local $x${v} v128)`).join(' ');
  emit(`  ${xs} (local $wv v128) (local $o i32) (local $p i32) (local $end i32) (local $i i32) (local $xr i32) (local $c i32) (local $cend i32) (local $c2 i32) (local $v i32) (local $any v128)`);
  emit('  (local.set $p (local.get $yt))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $o) (local.get $outDim)))');
  emit('    (local.set $wv (v128.load32_splat (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 2)))))');
  for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $p) (local.get $wv))`);
  emit(`    (local.set $p (i32.add (local.get $p) (i32.const ${16 * V})))`);
  emit('    (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l0)))');
  emit('  (local.set $xr (local.get $xt))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $i) (local.get $inDim)))');
  for (let v = 0; v < V; v++) emit(`    (local.set $x${v} (v128.load offset=${16 * v} (local.get $xr)))`);
  const any = Array.from({ length: V }, (_, v) => `(local.get $x${v})`).reduce((a, b) => `(v128.or ${a} ${b})`);
  emit(`    (if (v128.any_true ${any}) (then`);
  emit('      (local.set $c (i32.add (local.get $col) (i32.shl (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 1))))');
  emit('      (local.set $v (i32.add (local.get $val) (i32.shl (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))');
  emit('      (local.set $cend (i32.add (local.get $col) (i32.shl (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 1))))');
  emit('      (local.set $c2 (i32.sub (local.get $cend) (i32.const 2)))');
  const step = (t: number) => {
    emit(`        (local.set $p (i32.add (local.get $yt) (i32.shl (i32.load16_u offset=${2 * t} (local.get $c)) (i32.const ${shift}))))`);
    emit(`        (local.set $wv (v128.load32_splat offset=${4 * t} (local.get $v)))`);
    for (let v = 0; v < V; v++) emit(`        (v128.store offset=${16 * v} (local.get $p) (f32x4.add (v128.load offset=${16 * v} (local.get $p)) (f32x4.mul (local.get $x${v}) (local.get $wv))))`);
  };
  // Two stored weights per step (distinct columns of one row: no dependency between them).
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_s (local.get $c) (local.get $c2)))');
  step(0);
  step(1);
  emit('        (local.set $c (i32.add (local.get $c) (i32.const 4))) (local.set $v (i32.add (local.get $v) (i32.const 8)))');
  emit('        (br $l2)))');
  emit('      (if (i32.lt_u (local.get $c) (local.get $cend)) (then');
  step(0);
  emit('      ))');
  emit('    ))');
  emit(`    (local.set $xr (i32.add (local.get $xr) (i32.const ${16 * V})))`);
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('  (if (local.get $relu) (then');
  emit('    (local.set $p (local.get $yt))');
  emit(`    (local.set $end (i32.add (local.get $yt) (i32.shl (local.get $outDim) (i32.const ${shift}))))`);
  emit('    (block $d3 (loop $l3');
  emit('      (br_if $d3 (i32.ge_u (local.get $p) (local.get $end)))');
  emit('      (v128.store (local.get $p) (f32x4.pmax (global.get $zero) (v128.load (local.get $p))))');
  emit('      (local.set $p (i32.add (local.get $p) (i32.const 16)))');
  emit('      (br $l3)))))');
  emit(')');
}

/**
 * Transposes between image-major [n × dim] and feature-major [dim × L] (L lanes ≥ n; lanes n … L
 * are zero on the way in). toLanes 1: x → xt; 0: xt → x.
 */
function transpose(): void {
  emit('(func (export "lanes_in") (param $x i32) (param $n i32) (param $dim i32) (param $xt i32) (param $L i32)');
  emit('  (local $i i32) (local $j i32) (local $src i32) (local $dst i32)');
  emit('  (memory.fill (local.get $xt) (i32.const 0) (i32.shl (i32.mul (local.get $dim) (local.get $L)) (i32.const 2)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $dim)) (i32.const 2))))');
  emit('    (local.set $dst (i32.add (local.get $xt) (i32.shl (local.get $j) (i32.const 2))))');
  emit('    (local.set $i (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $i) (local.get $dim)))');
  emit('      (f32.store (local.get $dst) (f32.load (local.get $src)))');
  emit('      (local.set $src (i32.add (local.get $src) (i32.const 4)))');
  emit('      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $L) (i32.const 2))))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit(')');
  emit('(func (export "lanes_out") (param $xt i32) (param $n i32) (param $dim i32) (param $x i32) (param $L i32)');
  emit('  (local $i i32) (local $j i32) (local $src i32) (local $dst i32)');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $dst (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $dim)) (i32.const 2))))');
  emit('    (local.set $src (i32.add (local.get $xt) (i32.shl (local.get $j) (i32.const 2))))');
  emit('    (local.set $i (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $i) (local.get $dim)))');
  emit('      (f32.store (local.get $dst) (f32.load (local.get $src)))');
  emit('      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))');
  emit('      (local.set $src (i32.add (local.get $src) (i32.shl (local.get $L) (i32.const 2))))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit(')');
}


/**
 * Inline statements: $target (v128, i32 lanes 0 and 1; lanes 2 and 3 zero) = roundHalfAway of the
 * f64x2 expression v, truncated with saturation (NaN → 0), exactly as rhaClamp in source.ts does
 * per lane: |v|'s floor, plus 1 when |v| − floor|v| ≥ 0.5, with v's sign. Locals $rv $ra $rf (v128).
 */
function rha2(target: string, v: string): string {
  return `(local.set $rv ${v}) (local.set $ra (f64x2.abs (local.get $rv))) (local.set $rf (f64x2.floor (local.get $ra)))` +
    ' (local.set $ra (f64x2.add (local.get $rf) (v128.and (f64x2.ge (f64x2.sub (local.get $ra) (local.get $rf)) (global.get $half2)) (global.get $one2))))' +
    ` (local.set ${target} (i32x4.trunc_sat_f64x2_s_zero (v128.or (local.get $ra) (v128.and (local.get $rv) (global.get $sign2)))))`;
}
const RHA2_LOCALS = '(local $rv v128) (local $ra v128) (local $rf v128)';
/** Lanes 0, 1 of a and lanes 0, 1 of b as one i32x4 (a, b: i32x4 whose lanes 0 and 1 matter). */
const join2 = (a: string, b: string) => `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${a} ${b})`;
/** Lanes 2 and 3 moved to lanes 0 and 1. */
const high2 = (a: string) => `(i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${a} ${a})`;

/** Inline: writes the pair entry (q, p·s1, p·s2) at $p (offsets from $o1 $o2) and advances past it when q ≠ 0, then steps the offsets. */
function pairEntry(q: string, pad: string): void {
  emit(`${pad}(local.set $e ${q})`);
  emit(`${pad}(i32.store (local.get $p) (local.get $e)) (i32.store offset=4 (local.get $p) (local.get $o1)) (i32.store offset=8 (local.get $p) (local.get $o2))`);
  emit(`${pad}(local.set $p (i32.add (local.get $p) (select (i32.const ${ENTRY}) (i32.const 0) (local.get $e))))`);
  emit(`${pad}(local.set $o1 (i32.add (local.get $o1) (local.get $s1))) (local.set $o2 (i32.add (local.get $o2) (local.get $s2)))`);
}

/**
 * Dynamic quantization of one image's input (inDim floats at x) into nonzero pair entries
 * (q[2p] | q[2p+1] << 16, p · s1, p · s2) — the pair row's byte offset in a full panel and in the
 * last one; stores their count at cntPtr and returns the input scale m / 127 (m = max |x|, NaN
 * ignored: 0 when every input is 0). Per input, as in kernels.ts: q = clamp(roundHalfAway(x ·
 * (127 / m)), −127, 127), two inputs per f64x2.
 */
function pairsDynamic(): void {
  emit('(func $pairs_dyn4 (param $x i32) (param $inDim i32) (param $s1 i32) (param $s2 i32) (param $out i32) (param $cntPtr i32) (result f64)');
  emit(`  (local $i i32) (local $end i32) (local $mv v128) (local $m f32) (local $a f32) (local $inv v128) (local $q v128) (local $p i32) (local $xv v128) (local $o1 i32) (local $o2 i32) (local $e i32) (local $q0 v128) ${RHA2_LOCALS}`);
  emit('  (local.set $end (i32.and (local.get $inDim) (i32.const -4)))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $end)))');
  // pmax(m, a) = m < a ? a : m: a NaN input never becomes the maximum, as in kernels.ts.
  emit('    (local.set $mv (f32x4.pmax (local.get $mv) (f32x4.abs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  emit('  (local.set $m (f32x4.extract_lane 0 (local.get $mv)))');
  for (let t = 1; t < 4; t++) emit(`  (local.set $a (f32x4.extract_lane ${t} (local.get $mv))) (if (f32.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))`);
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $a (f32.abs (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))');
  emit('    (if (f32.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('  (local.set $p (local.get $out))');
  emit('  (if (f32.gt (local.get $m) (f32.const 0)) (then');
  emit('    (local.set $inv (f64x2.splat (f64.div (f64.const 127) (f64.promote_f32 (local.get $m)))))');
  emit('    (local.set $i (i32.const 0))');
  // Two pairs per step (4 inputs); a group of four zero inputs makes no entry and is skipped.
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $i) (local.get $end)))');
  emit('      (local.set $xv (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('      (if (v128.any_true (f32x4.ne (local.get $xv) (global.get $zero))) (then');
  emit('        (local.set $o1 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s1))) (local.set $o2 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s2)))');
  emit(`        ${rha2('$q', '(f64x2.mul (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $inv))')}`);
  emit(`        (local.set $q0 (local.get $q)) ${rha2('$q', `(f64x2.mul (f64x2.promote_low_f32x4 ${high2('(local.get $xv)')}) (local.get $inv))`)}`);
  emit(`        (local.set $q (i16x8.narrow_i32x4_s (i32x4.min_s (i32x4.max_s ${join2('(local.get $q0)', '(local.get $q)')} (global.get $m127)) (global.get $p127)) (global.get $zero)))`);
  pairEntry('(i32x4.extract_lane 0 (local.get $q))', '        ');
  pairEntry('(i32x4.extract_lane 1 (local.get $q))', '        ');
  emit('      ))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l2)))');
  // The last inputs (inDim mod 4), one pair at a time; a missing second input is 0.
  emit('    (block $d3 (loop $l3');
  emit('      (br_if $d3 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('      (local.set $xv (v128.load32_zero (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $inDim)) (then');
  emit('        (local.set $xv (v128.load32_lane 1 (i32.add (local.get $x) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2))) (local.get $xv)))))');
  emit(`      ${rha2('$q', '(f64x2.mul (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $inv))')}`);
  emit('      (local.set $q (i16x8.narrow_i32x4_s (i32x4.min_s (i32x4.max_s (local.get $q) (global.get $m127)) (global.get $p127)) (global.get $zero)))');
  emit('      (local.set $o1 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s1))) (local.set $o2 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s2)))');
  pairEntry('(i32x4.extract_lane 0 (local.get $q))', '      ');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l3)))');
  emit('  ))');
  emit(`  (i32.store (local.get $cntPtr) (i32.div_u (i32.sub (local.get $p) (local.get $out)) (i32.const ${ENTRY})))`);
  emit('  (f64.div (f64.promote_f32 (local.get $m)) (f64.const 127)))');
}

/** Full int8: d = q − zpIn per input code; nonzero pair entries (d[2p] | d[2p+1] << 16, p · s1, p · s2); returns their count. */
function pairsFull(): void {
  emit('(func $pairs_full8 (param $x i32) (param $inDim i32) (param $zp i32) (param $s1 i32) (param $s2 i32) (param $out i32) (result i32)');
  emit('  (local $i i32) (local $end i32) (local $d v128) (local $zpv v128) (local $p i32) (local $o1 i32) (local $o2 i32) (local $e i32) (local $d0 i32) (local $d1 i32)');
  emit('  (local.set $p (local.get $out))');
  emit('  (local.set $zpv (i16x8.splat (local.get $zp)))');
  emit('  (local.set $end (i32.and (local.get $inDim) (i32.const -8)))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $end)))');
  emit('    (local.set $d (i16x8.sub (i16x8.extend_low_i8x16_s (v128.load64_zero (i32.add (local.get $x) (local.get $i)))) (local.get $zpv)))');
  emit('    (if (v128.any_true (local.get $d)) (then');
  emit('      (local.set $o1 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s1))) (local.set $o2 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s2)))');
  for (let t = 0; t < 4; t++) pairEntry(`(i32x4.extract_lane ${t} (local.get $d))`, '      ');
  emit('    ))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 8))) (br $l)))');
  emit('  (block $d2 (loop $l2');
  emit('    (br_if $d2 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $d0 (i32.sub (i32.load8_s (i32.add (local.get $x) (local.get $i))) (local.get $zp)))');
  emit('    (local.set $d1 (i32.const 0))');
  emit('    (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $inDim)) (then');
  emit('      (local.set $d1 (i32.sub (i32.load8_s offset=1 (i32.add (local.get $x) (local.get $i))) (local.get $zp)))))');
  emit('    (local.set $o1 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s1))) (local.set $o2 (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $s2)))');
  pairEntry('(i32.or (i32.and (local.get $d0) (i32.const 0xffff)) (i32.shl (local.get $d1) (i32.const 16)))', '    ');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l2)))');
  emit(`  (i32.div_u (i32.sub (local.get $p) (local.get $out)) (i32.const ${ENTRY})))`);
}

/**
 * Input quantization of int8-full, four inputs per step: q = clamp(roundHalfAway(x / scale) +
 * zp, −128, 127), NaN → 0 (as an Int8Array store of NaN), len values (the last step may write up
 * to 3 bytes past q + len, and reads up to 3 floats past x + len).
 */
function quantizeInput(): void {
  emit('(func (export "quant_in4") (param $x i32) (param $len i32) (param $scale f64) (param $zp i32) (param $q i32)');
  emit(`  (local $i i32) (local $xv v128) (local $s v128) (local $lo v128) (local $t v128) (local $ok v128) (local $zpv v128) ${RHA2_LOCALS}`);
  emit('  (local.set $s (f64x2.splat (local.get $scale))) (local.set $zpv (i32x4.splat (local.get $zp)))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_s (local.get $i) (local.get $len)))');
  emit('    (local.set $xv (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  // Four zero inputs (background pixels) quantize to the zero point without dividing.
  emit('    (if (i32.eqz (v128.any_true (f32x4.ne (local.get $xv) (global.get $zero)))) (then');
  emit('      (v128.store32_lane 0 (i32.add (local.get $q) (local.get $i)) (i8x16.splat (select (global.get $s_m128) (select (global.get $s_p127) (local.get $zp) (i32.gt_s (local.get $zp) (global.get $s_p127))) (i32.lt_s (local.get $zp) (global.get $s_m128)))))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  emit(`    ${rha2('$lo', '(f64x2.div (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $s))')}`);
  emit('    (local.set $ok (f64x2.eq (local.get $rv) (local.get $rv)))');
  emit(`    ${rha2('$t', `(f64x2.div (f64x2.promote_low_f32x4 ${high2('(local.get $xv)')}) (local.get $s))`)}`);
  // Not-NaN masks of the four lanes: the low half of each 64-bit mask.
  emit('    (local.set $ok (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ok) (f64x2.eq (local.get $rv) (local.get $rv))))');
  emit(`    (local.set $t (i32x4.add (i32x4.min_s (i32x4.max_s ${join2('(local.get $lo)', '(local.get $t)')} (global.get $m1000)) (global.get $p1000)) (local.get $zpv)))`);
  emit('    (local.set $t (v128.and (local.get $ok) (i32x4.min_s (i32x4.max_s (local.get $t) (global.get $m128)) (global.get $p127))))');
  emit('    (v128.store32_lane 0 (i32.add (local.get $q) (local.get $i)) (i8x16.narrow_i16x8_s (i16x8.narrow_i32x4_s (local.get $t) (local.get $t)) (global.get $zero)))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  emit(')');
}

/**
 * int8 block over one panel and one image: for each pair entry, 8·V outputs of integer dot
 * products over the pair (weights interleaved by input pairs within the panel: [pair][o][2]),
 * exact int32 sums stored at acc. The row's offset is the entry's word at `field` (4: full
 * panel, 8: the last panel).
 */
function int8PanelBlock(V: number, field: 4 | 8): void {
  emit(`(func $pbi8_${V}_${field} (param $nz i32) (param $cnt i32) (param $w i32) (param $acc i32)`);
  emit(`  ${Array.from({ length: 2 * V }, (_, v) => `(local $a${v} v128)`).join(' ')} (local $q v128) (local $r i32) (local $end i32)`);
  emit(`  (local.set $end (i32.add (local.get $nz) (i32.mul (local.get $cnt) (i32.const ${ENTRY}))))`);
  emit('  (block $done (loop $next');
  emit('    (br_if $done (i32.ge_u (local.get $nz) (local.get $end)))');
  emit('    (local.set $q (v128.load32_splat (local.get $nz)))');
  emit(`    (local.set $r (i32.add (local.get $w) (i32.load offset=${field} (local.get $nz))))`);
  // Each half of the 16 weights widened as it is loaded (load8x8_s: one instruction on x64, where
  // widening the high half of a loaded vector takes two on the shuffle port, the block's bottleneck).
  for (let v = 0; v < V; v++) {
    emit(`    (local.set $a${2 * v} (i32x4.add (local.get $a${2 * v}) (i32x4.dot_i16x8_s (v128.load8x8_s offset=${16 * v} (local.get $r)) (local.get $q))))`);
    emit(`    (local.set $a${2 * v + 1} (i32x4.add (local.get $a${2 * v + 1}) (i32x4.dot_i16x8_s (v128.load8x8_s offset=${16 * v + 8} (local.get $r)) (local.get $q))))`);
  }
  emit(`    (local.set $nz (i32.add (local.get $nz) (i32.const ${ENTRY})))`);
  emit('    (br $next)))');
  for (let v = 0; v < 2 * V; v++) emit(`  (v128.store offset=${16 * v} (local.get $acc) (local.get $a${v}))`);
  emit(')');
}

/**
 * int8 layer over n images, as int8_layer in source.ts (mode 0 dynamic: x f32, y f32; mode 1
 * full: x and y int8 codes), on panels ([pair][o][2] int8 within each 48-wide panel) and with
 * vectorized pair lists and epilogues. acc scratch: n × 8 bytes of input scales, then
 * [n × outDim rounded up to 8] int32 accumulators. mode 1's multipliers must be readable up to
 * outDim rounded up to 4 (the loader pads them).
 */
function int8Layer(): void {
  emit('(func (export "mlp_int8") (param $mode i32) (param $x i32) (param $n i32) (param $inDim i32) (param $outDim i32) (param $w i32)');
  emit('  (param $scales i32) (param $b i32) (param $y i32) (param $relu i32) (param $zpIn i32) (param $zpOut i32) (param $lo i32)');
  emit('  (param $nz i32) (param $cnt i32) (param $acc i32)');
  emit('  (local $j i32) (local $ob i32) (local $rem i32) (local $full i32) (local $wp i32) (local $pairs i32) (local $nzj i32) (local $nzStride i32) (local $o i32)');
  emit('  (local $accs i32) (local $stride i32) (local $accj i32) (local $sx v128) (local $a v128) (local $v v128) (local $h v128) (local $t v128) (local $lov v128) (local $zpv v128)');
  emit(`  ${RHA2_LOCALS}`);
  emit('  (local.set $pairs (i32.shr_u (i32.add (local.get $inDim) (i32.const 1)) (i32.const 1)))');
  emit(`  (local.set $nzStride (i32.mul (local.get $pairs) (i32.const ${ENTRY})))`);
  emit(`  (local.set $full (i32.sub (local.get $outDim) (i32.rem_u (local.get $outDim) (i32.const ${PANEL}))))`);
  emit('  (local.set $rem (i32.sub (local.get $outDim) (local.get $full)))');
  emit('  (local.set $stride (i32.shl (i32.and (i32.add (local.get $outDim) (i32.const 7)) (i32.const -8)) (i32.const 2)))');
  emit('  (local.set $accs (i32.add (local.get $acc) (i32.shl (local.get $n) (i32.const 3))))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $nzj (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride))))');
  emit('    (if (i32.eqz (local.get $mode)) (then');
  emit('      (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3)))');
  emit('        (call $pairs_dyn4 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 2))) (local.get $inDim)');
  emit(`          (i32.const ${PANEL * 2}) (i32.shl (local.get $rem) (i32.const 1)) (local.get $nzj) (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))))`);
  emit('    ) (else');
  emit('      (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))');
  emit('        (call $pairs_full8 (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $inDim))) (local.get $inDim) (local.get $zpIn)');
  emit(`          (i32.const ${PANEL * 2}) (i32.shl (local.get $rem) (i32.const 1)) (local.get $nzj)))`);
  emit('    ))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit('  (local.set $wp (local.get $w))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $ob) (local.get $full)))');
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))');
  emit(`      (call $pbi8_${PANEL / 8}_4 (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride))) (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2))))`);
  emit('        (local.get $wp) (i32.add (i32.add (local.get $accs) (i32.mul (local.get $j) (local.get $stride))) (i32.shl (local.get $ob) (i32.const 2))))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2)))');
  emit(`    (local.set $wp (i32.add (local.get $wp) (i32.mul (local.get $pairs) (i32.const ${PANEL * 2}))))`);
  emit(`    (local.set $ob (i32.add (local.get $ob) (i32.const ${PANEL}))) (br $l1)))`);
  emit('  (if (local.get $rem) (then');
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d2b (loop $l2b');
  emit('      (br_if $d2b (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (call $pbpi8 (i32.shr_u (i32.add (local.get $rem) (i32.const 7)) (i32.const 3)) (i32.add (local.get $nz) (i32.mul (local.get $j) (local.get $nzStride)))');
  emit('        (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (local.get $wp)');
  emit('        (i32.add (i32.add (local.get $accs) (i32.mul (local.get $j) (local.get $stride))) (i32.shl (local.get $full) (i32.const 2))))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2b)))');
  emit('  ))');
  // Epilogues, image by image, four outputs per step (a row's last step may spill up to three
  // values into the next image's row, which is written after it, or into the buffer's slack).
  emit('  (local.set $zpv (i32x4.splat (local.get $zpOut))) (local.set $lov (i32x4.splat (local.get $lo)))');
  emit('  (local.set $j (i32.const 0))');
  emit('  (block $d3 (loop $l3');
  emit('    (br_if $d3 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $accj (i32.add (local.get $accs) (i32.mul (local.get $j) (local.get $stride))))');
  emit('    (local.set $sx (v128.load64_splat (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3)))))');
  emit('    (local.set $o (i32.const 0))');
  emit('    (if (i32.eqz (local.get $mode)) (then');
  // y = acc · (scale_x · s_w[o]) + b[o] in float64, ReLU'd (pmax(0, v) = 0 < v ? v : 0: NaN and −0 give +0, as !(v > 0) ? 0 : v).
  emit('      (block $d4 (loop $l4');
  emit('        (br_if $d4 (i32.ge_u (local.get $o) (local.get $outDim)))');
  emit('        (local.set $a (v128.load (i32.add (local.get $accj) (i32.shl (local.get $o) (i32.const 2)))))');
  emit('        (local.set $t (v128.load (i32.add (local.get $scales) (i32.shl (local.get $o) (i32.const 2)))))');
  emit('        (local.set $h (v128.load (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 2)))))');
  const dyn = (half: (e: string) => string) =>
    `(f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_s ${half('(local.get $a)')}) (f64x2.mul (local.get $sx) (f64x2.promote_low_f32x4 ${half('(local.get $t)')}))) (f64x2.promote_low_f32x4 ${half('(local.get $h)')}))`;
  emit(`        (local.set $v ${dyn((e) => e)})`);
  emit(`        (local.set $rv ${dyn(high2)})`);
  emit('        (if (local.get $relu) (then (local.set $v (f64x2.pmax (global.get $zero) (local.get $v))) (local.set $rv (f64x2.pmax (global.get $zero) (local.get $rv)))))');
  emit('        (v128.store (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $outDim)) (local.get $o)) (i32.const 2)))');
  emit(`          ${join2('(f32x4.demote_f64x2_zero (local.get $v))', '(f32x4.demote_f64x2_zero (local.get $rv))')})`);
  emit('        (local.set $o (i32.add (local.get $o) (i32.const 4))) (br $l4)))');
  emit('    ) (else');
  // q = clamp(roundHalfAway((acc + qb[o]) · M[o]) + zp_out, lo, 127), the sum exact in float64.
  emit('      (block $d5 (loop $l5');
  emit('        (br_if $d5 (i32.ge_u (local.get $o) (local.get $outDim)))');
  emit('        (local.set $a (v128.load (i32.add (local.get $accj) (i32.shl (local.get $o) (i32.const 2)))))');
  emit('        (local.set $h (v128.load (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 2)))))');
  const full = (half: (e: string) => string, mOff: number) =>
    `(f64x2.mul (f64x2.add (f64x2.convert_low_i32x4_s ${half('(local.get $a)')}) (f64x2.convert_low_i32x4_s ${half('(local.get $h)')})) (v128.load offset=${mOff} (i32.add (local.get $scales) (i32.shl (local.get $o) (i32.const 3)))))`;
  emit(`        ${rha2('$t', full((e) => e, 0))}`);
  emit(`        (local.set $v (local.get $t)) ${rha2('$t', full(high2, 16))}`);
  emit(`        (local.set $t (i32x4.add (i32x4.min_s (i32x4.max_s ${join2('(local.get $v)', '(local.get $t)')} (global.get $m1000)) (global.get $p1000)) (local.get $zpv)))`);
  emit('        (local.set $t (i32x4.min_s (i32x4.max_s (local.get $t) (local.get $lov)) (global.get $p127)))');
  emit('        (v128.store32_lane 0 (i32.add (local.get $y) (i32.add (i32.mul (local.get $j) (local.get $outDim)) (local.get $o)))');
  emit('          (i8x16.narrow_i16x8_s (i16x8.narrow_i32x4_s (local.get $t) (local.get $t)) (global.get $zero)))');
  emit('        (local.set $o (i32.add (local.get $o) (i32.const 4))) (br $l5)))');
  emit('    ))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l3)))');
  emit(')');
}

/** Constants of the int8 kernels. */
function int8Globals(): void {
  emit('(global $half2 v128 (v128.const f64x2 0.5 0.5))');
  emit('(global $one2 v128 (v128.const f64x2 1 1))');
  emit('(global $sign2 v128 (v128.const i64x2 0x8000000000000000 0x8000000000000000))');
  emit('(global $s_m128 i32 (i32.const -128))');
  emit('(global $s_p127 i32 (i32.const 127))');
  for (const [name, v] of [['m127', -127], ['p127', 127], ['m128', -128], ['m1000', -1000], ['p1000', 1000]] as const) {
    emit(`(global $${name} v128 (v128.const i32x4 ${v} ${v} ${v} ${v}))`);
  }
}

/** The MLP kernels' functions, to be placed inside the module after source.ts's helpers. */
export function mlpKernelsWat(): string {
  lines.length = 0;
  nzList(false);
  nzList(true);
  maxAbs();
  for (const kind of ['f32', 'f16', 'f16s'] as const) {
    floatPanelBlock(kind, 12, 4);
    for (let V = 1; V <= 12; V++) floatPanelBlock(kind, V, 8);
    dispatch(`pbp_${kind}`, (V) => `$pb_${kind}_${V}_8`, 12, '(param $nz i32) (param $cnt i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32)',
      '(local.get $nz) (local.get $cnt) (local.get $w) (local.get $b) (local.get $y) (local.get $relu)');
  }
  denseLayer('f32');
  denseLayer('f16');
  widenF16();
  csrToPanels();
  csrOne();
  for (const V of CSR_T_VECTORS) csrTransposed(V);
  transpose();
  int8Globals();
  pairsDynamic();
  pairsFull();
  quantizeInput();
  int8PanelBlock(PANEL / 8, 4);
  for (let V = 1; V <= PANEL / 8; V++) int8PanelBlock(V, 8);
  dispatch('pbpi8', (V) => `$pbi8_${V}_8`, PANEL / 8, '(param $nz i32) (param $cnt i32) (param $w i32) (param $acc i32)',
    '(local.get $nz) (local.get $cnt) (local.get $w) (local.get $acc)');
  int8Layer();
  return lines.join('\n');
}
