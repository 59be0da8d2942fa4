/**
 * WebAssembly text of the MLP training kernels (lib/model/wasm/mlp-train.ts runs them), spliced
 * into the module by source.ts's kernelsWat(). Generated for the same reason as the inference
 * kernels: the register-blocked loops are unrolled per block width.
 *
 * Why hand-written: on the tfjs wasm engine a training step of LeNet-300-100 spent nearly half its
 * time outside matMuls (explicit transposes, an unfused Adam of ten ops per tensor, uploads), and
 * no maintained library offers single-threaded wasm SIMD GEMMs that skip zero operands.
 *
 * One GEMM shape serves every product of a step. A "list" holds one row of the left operand as
 * its nonzero entries (i32 byte offset of the matching right-operand row, f32 value), so zeros —
 * half of Fashion-MNIST's pixels, the ReLU's zeros, their gradients — cost nothing, and
 * y[row, block] = Σ entries value · right[offset + block], in list order, in float32:
 * - forward      Z_l  = [A_{l−1} 1] · [W_l; b_l]  (lists: rows of A with a last entry 1 → the bias row)
 * - weight grads dW_l = A_{l−1}ᵀ · dZ_l, db_l = 1ᵀ · dZ_l  (lists: columns of A, and a column of ones)
 * - input grads  dA_{l−1} = dZ_l · W_lᵀ  (lists: rows of dZ_l; right operand: a transposed copy
 *   of the weights, refreshed after each update by mlp_transpose)
 * so no product needs a transposed copy of an activation. Each call of a block kernel keeps 4·V
 * outputs of one row in V registers (V ≤ 12) while it walks the list; the driver runs every row
 * through one block before the next, so the block's right-operand rows stay in cache.
 */

/** Vectors (4 floats) per register block: 12 accumulators, as the inference kernels. */
const MAX_V = 12;

/** Epilogues of a block: store, store ReLU'd, or store where the mask operand is > 0 (a ReLU's backward). */
export const EPILOGUE = { store: 0, relu: 1, maskPositive: 2 } as const;

export function mlpTrainWat(): string {
  const out: string[] = [];
  const emit = (s: string) => out.push(s);
  const locals = (prefix: string, n: number, type: string) => Array.from({ length: n }, (_, v) => `(local $${prefix}${v} ${type})`).join(' ');

  for (let V = 1; V <= MAX_V; V++) {
    emit(`(func $mlp_blk_${V} (param $list i32) (param $cnt i32) (param $b i32) (param $y i32) (param $mode i32) (param $h i32) (param $acc i32)`);
    emit(`  ${locals('a', V, 'v128')} (local $xv v128) (local $r i32) (local $end i32)`);
    // Sums start at 0, or, continuing a product split along its inner dimension, at y.
    emit(`  (if (local.get $acc) (then ${Array.from({ length: V }, (_, v) => `(local.set $a${v} (v128.load offset=${16 * v} (local.get $y)))`).join(' ')}))`);
    emit('  (local.set $end (i32.add (local.get $list) (i32.shl (local.get $cnt) (i32.const 3))))');
    emit('  (block $done (loop $next');
    emit('    (br_if $done (i32.ge_u (local.get $list) (local.get $end)))');
    emit('    (local.set $xv (v128.load32_splat offset=4 (local.get $list)))');
    emit('    (local.set $r (i32.add (local.get $b) (i32.load (local.get $list))))');
    for (let v = 0; v < V; v++) emit(`    (local.set $a${v} (f32x4.add (local.get $a${v}) (f32x4.mul (local.get $xv) (v128.load offset=${16 * v} (local.get $r)))))`);
    emit('    (local.set $list (i32.add (local.get $list) (i32.const 8)))');
    emit('    (br $next)))');
    emit('  (block $m0 (block $m1 (block $m2 (br_table $m0 $m1 $m2 (local.get $mode)))');
    // maskPositive: the lanes where h > 0 keep their sum, the others become +0.
    for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (v128.and (local.get $a${v}) (f32x4.gt (v128.load offset=${16 * v} (local.get $h)) (v128.const f32x4 0 0 0 0))))`);
    emit('    (return))');
    for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $a${v})))`);
    emit('    (return))');
    for (let v = 0; v < V; v++) emit(`  (v128.store offset=${16 * v} (local.get $y) (local.get $a${v}))`);
    emit(')');
  }

  // Dispatch on V with br_table (as source.ts's dispatcher).
  const args = '(local.get $list) (local.get $cnt) (local.get $b) (local.get $y) (local.get $mode) (local.get $h) (local.get $acc)';
  let body = `(br_table ${Array.from({ length: MAX_V + 1 }, (_, v) => `$v${v}`).join(' ')} (local.get $V))`;
  for (let v = 0; v <= MAX_V; v++) body = `(block $v${v} ${body})${v === 0 ? ' (return)' : ` (call $mlp_blk_${v} ${args}) (return)`}`;
  emit('(func $mlp_blk (param $V i32) (param $list i32) (param $cnt i32) (param $b i32) (param $y i32) (param $mode i32) (param $h i32) (param $acc i32)');
  emit(`  ${body})`);

  /*
   * y[j, 0 … outPad) for rows j < n, from list j (at lists + j·listStride, counts[j] entries) and
   * the right operand at b; outPad a multiple of 4, cut into ⌈outPad/48⌉ blocks of near-equal
   * width. The mask operand of EPILOGUE.maskPositive is h [n, outPad], hStride bytes per row.
   * With $acc the sums continue from y's values: a product split into slices of the right
   * operand's rows (inputs), each small enough for its block to stay in L1, gives the same
   * float32 sums as the whole (the same additions in the same order).
   */
  emit('(func (export "mlp_gemm") (param $lists i32) (param $listStride i32) (param $counts i32) (param $n i32) (param $b i32) (param $outPad i32)');
  emit('  (param $y i32) (param $yStride i32) (param $mode i32) (param $h i32) (param $hStride i32) (param $acc i32)');
  emit('  (local $nv i32) (local $nb i32) (local $base i32) (local $extra i32) (local $k i32) (local $V i32) (local $ob i32) (local $j i32)');
  emit('  (local.set $nv (i32.shr_u (local.get $outPad) (i32.const 2)))');
  emit(`  (local.set $nb (i32.div_u (i32.add (local.get $nv) (i32.const ${MAX_V - 1})) (i32.const ${MAX_V})))`);
  emit('  (if (i32.eqz (local.get $nb)) (then (return)))');
  emit('  (local.set $base (i32.div_u (local.get $nv) (local.get $nb)))');
  emit('  (local.set $extra (i32.rem_u (local.get $nv) (local.get $nb)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $k) (local.get $nb)))');
  emit('    (local.set $V (i32.add (local.get $base) (i32.lt_u (local.get $k) (local.get $extra))))');
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (call $mlp_blk (local.get $V)');
  emit('        (i32.add (local.get $lists) (i32.mul (local.get $j) (local.get $listStride)))');
  emit('        (i32.load (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2))))');
  emit('        (i32.add (local.get $b) (i32.shl (local.get $ob) (i32.const 4)))');
  emit('        (i32.add (i32.add (local.get $y) (i32.mul (local.get $j) (local.get $yStride))) (i32.shl (local.get $ob) (i32.const 4)))');
  emit('        (local.get $mode)');
  emit('        (i32.add (i32.add (local.get $h) (i32.mul (local.get $j) (local.get $hStride))) (i32.shl (local.get $ob) (i32.const 4)))');
  emit('        (local.get $acc))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l1)))');
  emit('    (local.set $ob (i32.add (local.get $ob) (local.get $V)))');
  emit('    (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * Row lists of x [n, d] (xStride bytes per row): entry (i·rowBytes, x[j, i]) for each nonzero
   * x[j, i], then, with $bias, (d·rowBytes, 1) — the bias row. Four inputs at a time are skipped
   * when all are zero (image backgrounds); the rest is branch-free compaction (always write the
   * entry, advance past a nonzero only).
   */
  emit('(func (export "mlp_row_lists") (param $x i32) (param $n i32) (param $d i32) (param $xStride i32) (param $rowBytes i32)');
  emit('  (param $lists i32) (param $listStride i32) (param $counts i32) (param $bias i32)');
  emit('  (local $j i32) (local $i i32) (local $d4 i32) (local $row i32) (local $p i32) (local $start i32) (local $v f32) (local $k i32)');
  emit('  (local.set $d4 (i32.and (local.get $d) (i32.const -4)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $row (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $xStride))))');
  emit('    (local.set $start (i32.add (local.get $lists) (i32.mul (local.get $j) (local.get $listStride))))');
  emit('    (local.set $p (local.get $start))');
  emit('    (local.set $i (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $i) (local.get $d4)))');
  emit('      (if (v128.any_true (v128.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))) (then');
  for (let t = 0; t < 4; t++) {
    emit(`        (local.set $v (f32.load offset=${4 * t} (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2)))))`);
    emit(`        (i32.store (local.get $p) (i32.mul (i32.add (local.get $i) (i32.const ${t})) (local.get $rowBytes)))`);
    emit('        (f32.store offset=4 (local.get $p) (local.get $v))');
    emit('        (local.set $p (i32.add (local.get $p) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))');
  }
  emit('      ))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l1)))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $i) (local.get $d)))');
  emit('      (local.set $v (f32.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('      (i32.store (local.get $p) (i32.mul (local.get $i) (local.get $rowBytes)))');
  emit('      (f32.store offset=4 (local.get $p) (local.get $v))');
  emit('      (local.set $p (i32.add (local.get $p) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))');
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l2)))');
  emit('    (if (local.get $bias) (then');
  emit('      (i32.store (local.get $p) (i32.mul (local.get $d) (local.get $rowBytes)))');
  emit('      (f32.store offset=4 (local.get $p) (f32.const 1))');
  emit('      (local.set $p (i32.add (local.get $p) (i32.const 8)))))');
  emit('    (i32.store (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2))) (i32.shr_u (i32.sub (local.get $p) (local.get $start)) (i32.const 3)))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * Column lists of x [n, d]: list i holds (j·rowBytes, x[j, i]) for each nonzero x[j, i], in row
   * order; with $bias, list d holds (j·rowBytes, 1) for every row j (the bias gradient's column
   * of ones). Four columns at a time, so each row's 16 bytes are read once and skipped when zero.
   */
  emit('(func (export "mlp_col_lists") (param $x i32) (param $n i32) (param $d i32) (param $xStride i32) (param $rowBytes i32)');
  emit('  (param $lists i32) (param $listStride i32) (param $counts i32) (param $bias i32)');
  emit(`  (local $i i32) (local $j i32) (local $w i32) (local $t i32) (local $q i32) (local $off i32) (local $v f32) ${locals('p', 4, 'i32')} ${locals('s', 4, 'i32')}`);
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $i) (local.get $d)))');
  // w = columns in this group: 4, or the 1–3 left at the end (done one at a time below).
  emit('    (local.set $w (select (i32.const 4) (i32.sub (local.get $d) (local.get $i)) (i32.ge_u (i32.sub (local.get $d) (local.get $i)) (i32.const 4))))');
  for (let t = 0; t < 4; t++) {
    emit(`    (local.set $s${t} (i32.add (local.get $lists) (i32.mul (i32.add (local.get $i) (i32.const ${t})) (local.get $listStride))))`);
    emit(`    (local.set $p${t} (local.get $s${t}))`);
  }
  emit('    (local.set $j (i32.const 0)) (local.set $off (i32.const 0))');
  emit('    (local.set $q (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))');
  emit('    (if (i32.eq (local.get $w) (i32.const 4)) (then');
  emit('      (block $d1 (loop $l1');
  emit('        (br_if $d1 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('        (if (v128.any_true (v128.load (local.get $q))) (then');
  for (let t = 0; t < 4; t++) {
    emit(`          (local.set $v (f32.load offset=${4 * t} (local.get $q)))`);
    emit(`          (i32.store (local.get $p${t}) (local.get $off))`);
    emit(`          (f32.store offset=4 (local.get $p${t}) (local.get $v))`);
    emit(`          (local.set $p${t} (i32.add (local.get $p${t}) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))`);
  }
  emit('        ))');
  emit('        (local.set $q (i32.add (local.get $q) (local.get $xStride)))');
  emit('        (local.set $off (i32.add (local.get $off) (local.get $rowBytes)))');
  emit('        (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l1)))');
  emit('    ) (else');
  // The last 1–3 columns one at a time.
  emit('      (local.set $t (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $t) (local.get $w)))');
  emit('        (local.set $p0 (i32.add (local.get $lists) (i32.mul (i32.add (local.get $i) (local.get $t)) (local.get $listStride))))');
  emit('        (local.set $s0 (local.get $p0))');
  emit('        (local.set $q (i32.add (local.get $x) (i32.shl (i32.add (local.get $i) (local.get $t)) (i32.const 2))))');
  emit('        (local.set $j (i32.const 0)) (local.set $off (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('          (local.set $v (f32.load (local.get $q)))');
  emit('          (i32.store (local.get $p0) (local.get $off))');
  emit('          (f32.store offset=4 (local.get $p0) (local.get $v))');
  emit('          (local.set $p0 (i32.add (local.get $p0) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))');
  emit('          (local.set $q (i32.add (local.get $q) (local.get $xStride)))');
  emit('          (local.set $off (i32.add (local.get $off) (local.get $rowBytes)))');
  emit('          (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l3)))');
  emit('        (i32.store (i32.add (local.get $counts) (i32.shl (i32.add (local.get $i) (local.get $t)) (i32.const 2)))');
  emit('          (i32.shr_u (i32.sub (local.get $p0) (local.get $s0)) (i32.const 3)))');
  emit('        (local.set $t (i32.add (local.get $t) (i32.const 1))) (br $l2)))');
  emit('      (local.set $i (i32.add (local.get $i) (local.get $w)))');
  emit('      (br $l0)))');
  for (let t = 0; t < 4; t++) {
    emit(`    (i32.store (i32.add (local.get $counts) (i32.shl (i32.add (local.get $i) (i32.const ${t})) (i32.const 2))) (i32.shr_u (i32.sub (local.get $p${t}) (local.get $s${t})) (i32.const 3)))`);
  }
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l0)))');
  emit('  (if (local.get $bias) (then');
  emit('    (local.set $p0 (i32.add (local.get $lists) (i32.mul (local.get $d) (local.get $listStride))))');
  emit('    (local.set $j (i32.const 0)) (local.set $off (i32.const 0))');
  emit('    (block $d4 (loop $l4');
  emit('      (br_if $d4 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (i32.store (local.get $p0) (local.get $off))');
  emit('      (f32.store offset=4 (local.get $p0) (f32.const 1))');
  emit('      (local.set $p0 (i32.add (local.get $p0) (i32.const 8)))');
  emit('      (local.set $off (i32.add (local.get $off) (local.get $rowBytes)))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l4)))');
  emit('    (i32.store (i32.add (local.get $counts) (i32.shl (local.get $d) (i32.const 2))) (local.get $n))))');
  emit(')');

  /*
   * Adam over p [rows, cols] (cols a multiple of 4) in one pass, with the arithmetic of tfjs-core's
   * AdamOptimizer in float32 (trainer/adam.ts writes it out; every SIMD op here rounds to float32
   * as its Math.fround does, and sqrt and division are correctly rounded in both):
   *   m ← m·β1 + g·(1 − β1),  v ← v·β2 + g²·(1 − β2),  p ← p + ((m / c1) / (√(v / c2) + ε))·(−lr)
   * with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ from the caller. Then, with a mask (i32 lanes, all ones or 0),
   * pruned weights become +0.
   * One departure: m and v below 2⁻¹²⁶ in magnitude are stored as 0, and a step below 2⁻¹²⁶ is
   * not taken (the quotient is zeroed below `tiny` = 2⁻¹²⁶/lr), as TensorFlow's native kernels
   * flush subnormals. Wasm cannot set the CPU's flush-to-zero mode, and every subnormal operand
   * costs a microcode assist (measured here: 5 % subnormal m — the moments of weights whose
   * gradient stays 0, e.g. into dead units, decay into that range — made this pass 5.6× slower).
   * Such steps change no weight of magnitude above 2⁻¹⁰⁰ (an add of less than half its ulp).
   */
  emit('(func (export "mlp_adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $mask i32) (param $n i32)');
  emit('  (param $b1 f32) (param $b2 f32) (param $omb1 f32) (param $omb2 f32) (param $c1 f32) (param $c2 f32) (param $lr f32) (param $eps f32) (param $tiny f32)');
  emit('  (local $B1 v128) (local $B2 v128) (local $OMB1 v128) (local $OMB2 v128) (local $C1 v128) (local $C2 v128) (local $LR v128) (local $EPS v128) (local $TINY v128)');
  emit('  (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128) (local $o i32) (local $end i32)');
  // x, with lanes of magnitude below `min` zeroed (NaN kept: it compares false).
  const flush = (x: string, min: string) => `(v128.andnot ${x} (f32x4.lt (f32x4.abs ${x}) ${min}))`;
  for (const [reg, par] of [['B1', 'b1'], ['B2', 'b2'], ['OMB1', 'omb1'], ['OMB2', 'omb2'], ['C1', 'c1'], ['C2', 'c2'], ['LR', 'lr'], ['EPS', 'eps'], ['TINY', 'tiny']]) {
    emit(`  (local.set $${reg} (f32x4.splat (local.get $${par})))`);
  }
  emit('  (local.set $end (i32.shl (local.get $n) (i32.const 2)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $o) (local.get $end)))');
  emit('    (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))');
  const MIN = '(v128.const i32x4 0x00800000 0x00800000 0x00800000 0x00800000)'; // 2⁻¹²⁶, the smallest normal float32
  emit('    (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o))) (local.get $B1)) (f32x4.mul (local.get $gv) (local.get $OMB1))))');
  emit(`    (local.set $mv ${flush('(local.get $mv)', MIN)})`);
  emit('    (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o))) (local.get $B2)) (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OMB2))))');
  emit(`    (local.set $vv ${flush('(local.get $vv)', MIN)})`);
  emit('    (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))');
  emit('    (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))');
  emit('    (local.set $pv (f32x4.div (f32x4.div (local.get $mv) (local.get $C1)) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $C2))) (local.get $EPS))))');
  emit(`    (local.set $pv (f32x4.add (f32x4.mul ${flush('(local.get $pv)', '(local.get $TINY)')} (local.get $LR)) (v128.load (i32.add (local.get $p) (local.get $o)))))`);
  emit('    (if (local.get $mask) (then (local.set $pv (v128.and (local.get $pv) (v128.load (i32.add (local.get $mask) (local.get $o)))))))');
  emit('    (v128.store (i32.add (local.get $p) (local.get $o)) (local.get $pv))');
  emit('    (local.set $o (i32.add (local.get $o) (i32.const 16))) (br $l0)))');
  emit(')');

  /*
   * t[c, r] = p[r, c] for r < rows, c < cols (p: cols floats per row, a multiple of 4; t: tStride
   * bytes per row): the weights as the input gradient reads them, refreshed after each update.
   * 4×4 tiles through registers, so each store is a whole vector; the last rows % 4 rows one by one.
   */
  const lanes = (picks: number[]) => picks.flatMap((q) => [4 * q, 4 * q + 1, 4 * q + 2, 4 * q + 3]).join(' ');
  emit('(func (export "mlp_transpose") (param $p i32) (param $rows i32) (param $cols i32) (param $t i32) (param $tStride i32)');
  emit('  (local $r i32) (local $c i32) (local $rowBytes i32) (local $src i32) (local $dst i32) (local $r4 i32)');
  emit('  (local $a v128) (local $b v128) (local $x v128) (local $y v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)');
  emit('  (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))');
  emit('  (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $r) (local.get $r4)))');
  emit('    (local.set $c (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $c) (local.get $cols)))');
  emit('      (local.set $src (i32.add (i32.add (local.get $p) (i32.mul (local.get $r) (local.get $rowBytes))) (i32.shl (local.get $c) (i32.const 2))))');
  emit('      (local.set $a (v128.load (local.get $src)))');
  emit('      (local.set $b (v128.load (i32.add (local.get $src) (local.get $rowBytes))))');
  emit('      (local.set $x (v128.load (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1)))))');
  emit('      (local.set $y (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))');
  // (a0 b0 a1 b1), (a2 b2 a3 b3), (x0 y0 x1 y1), (x2 y2 x3 y3); then their low and high halves.
  emit(`      (local.set $t0 (i8x16.shuffle ${lanes([0, 4, 1, 5])} (local.get $a) (local.get $b)))`);
  emit(`      (local.set $t1 (i8x16.shuffle ${lanes([2, 6, 3, 7])} (local.get $a) (local.get $b)))`);
  emit(`      (local.set $t2 (i8x16.shuffle ${lanes([0, 4, 1, 5])} (local.get $x) (local.get $y)))`);
  emit(`      (local.set $t3 (i8x16.shuffle ${lanes([2, 6, 3, 7])} (local.get $x) (local.get $y)))`);
  emit('      (local.set $dst (i32.add (i32.add (local.get $t) (i32.mul (local.get $c) (local.get $tStride))) (i32.shl (local.get $r) (i32.const 2))))');
  emit(`      (v128.store (local.get $dst) (i8x16.shuffle ${lanes([0, 1, 4, 5])} (local.get $t0) (local.get $t2)))`);
  emit('      (local.set $dst (i32.add (local.get $dst) (local.get $tStride)))');
  emit(`      (v128.store (local.get $dst) (i8x16.shuffle ${lanes([2, 3, 6, 7])} (local.get $t0) (local.get $t2)))`);
  emit('      (local.set $dst (i32.add (local.get $dst) (local.get $tStride)))');
  emit(`      (v128.store (local.get $dst) (i8x16.shuffle ${lanes([0, 1, 4, 5])} (local.get $t1) (local.get $t3)))`);
  emit('      (local.set $dst (i32.add (local.get $dst) (local.get $tStride)))');
  emit(`      (v128.store (local.get $dst) (i8x16.shuffle ${lanes([2, 3, 6, 7])} (local.get $t1) (local.get $t3)))`);
  emit('      (local.set $c (i32.add (local.get $c) (i32.const 4))) (br $l1)))');
  emit('    (local.set $r (i32.add (local.get $r) (i32.const 4))) (br $l0)))');
  emit('  (block $d2 (loop $l2');
  emit('    (br_if $d2 (i32.ge_u (local.get $r) (local.get $rows)))');
  emit('    (local.set $c (i32.const 0))');
  emit('    (block $d3 (loop $l3');
  emit('      (br_if $d3 (i32.ge_u (local.get $c) (local.get $cols)))');
  emit('      (f32.store (i32.add (i32.add (local.get $t) (i32.mul (local.get $c) (local.get $tStride))) (i32.shl (local.get $r) (i32.const 2)))');
  emit('        (f32.load (i32.add (i32.add (local.get $p) (i32.mul (local.get $r) (local.get $rowBytes))) (i32.shl (local.get $c) (i32.const 2)))))');
  emit('      (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l3)))');
  emit('    (local.set $r (i32.add (local.get $r) (i32.const 1))) (br $l2)))');
  emit(')');

  return out.join('\n');
}
