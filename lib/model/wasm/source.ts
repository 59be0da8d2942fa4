/**
 * The WebAssembly text of the fast kernels, generated: the register-blocked inner loops are
 * unrolled per block width, which by hand would be hundreds of near-identical lines. Compiled
 * to `kernels.wasm` at build time (`npm run build:wasm`); nothing here runs at prediction time.
 *
 * Why hand-written WebAssembly: the kernels must run on Workers, where no native addon exists
 * and code cannot be generated at run time, and no maintained library offers int8/f16/CSR
 * dense-layer kernels that compile to plain wasm SIMD.
 *
 * Layout and arithmetic (all pointers are byte offsets into the module's one memory):
 * - Every layer kernel works on n images at once: x [n × inDim] → y [n × outDim]. It first
 *   lists each image's nonzero inputs (zero inputs add exactly ±0 and are skipped), then, for
 *   each block of 48 outputs, runs every image of the tile through that block: the block's
 *   weights are read from memory once per tile and then from cache.
 * - Float kernels (dense f32, f16, CSR) accumulate in float32, one product and one add per
 *   term, inputs in ascending order, starting from the bias. The same order in all three, so
 *   a CSR model gives bit-for-bit the logits of the dense kernel on the same weights, and f16
 *   gives those of the dense kernel on its exactly decoded weights. They are not bit-identical
 *   to the float64 JS reference kernels (see kernels.ts); tests bound the difference.
 * - f16 weights stay binary16 in memory and are widened in registers: for h sign-extended to
 *   32 bits, ((h << 13) & 0x8fffffff) is the float32 bit pattern of h · 2^−112 (subnormal
 *   halves included), and one multiply by 2^112 makes it exact.
 * - int8 kernels use integer dot products (i32x4.dot_i16x8_s) over pairs of inputs, with the
 *   weights interleaved by input pairs: packed[p][o][t] = W[2p + t][o]. The sums are exact, and
 *   the float parts (dynamic scale, requantization, rounding half away from zero) are float64
 *   scalar code that performs the same IEEE operations as the JS reference: int8 results are
 *   bit-exact with kernels.ts.
 */
import { convKernelsWat } from './source-conv.ts';
import { f16Value, mlpKernelsWat } from './mlp-source.ts';
import { mlpTrainWat } from './mlp-train-source.ts';
import { cnnTrainWat } from './cnn-train-source.ts';

/** Outputs per register block: 12 accumulators of 4 lanes. */
export const BLOCK = 48;
const F32_VECTORS = BLOCK / 4; // 12 v128 accumulators
const I8_LOADS = BLOCK / 8; // 6 loads of 16 bytes (8 outputs × 2 inputs), 12 accumulators

const lines: string[] = [];
const emit = (s: string) => lines.push(s);

function locals(prefix: string, n: number, type: string): string {
  return Array.from({ length: n }, (_, v) => `(local $${prefix}${v} ${type})`).join(' ');
}

/**
 * Float block kernel over V vectors (4·V outputs): acc = bias; for each nonzero input entry
 * (i32 row byte offset, f32 value): acc += value · W[row]; stores acc (ReLU'd if asked).
 */
function floatBlock(kind: 'f32' | 'f16', V: number): void {
  emit(`(func $blk_${kind}_${V} (param $nz i32) (param $cnt i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32)`);
  emit(`  ${locals('a', V, 'v128')} (local $xv v128) (local $r i32) (local $end i32)`);
  for (let v = 0; v < V; v++) emit(`  (local.set $a${v} (v128.load offset=${16 * v} (local.get $b)))`);
  emit('  (local.set $end (i32.add (local.get $nz) (i32.shl (local.get $cnt) (i32.const 3))))');
  emit('  (block $done (loop $next');
  emit('    (br_if $done (i32.ge_u (local.get $nz) (local.get $end)))');
  emit('    (local.set $xv (v128.load32_splat offset=4 (local.get $nz)))');
  emit('    (local.set $r (i32.add (local.get $w) (i32.load (local.get $nz))))');
  for (let v = 0; v < V; v++) {
    const w = kind === 'f32'
      ? `(v128.load offset=${16 * v} (local.get $r))`
      : f16Value(`(v128.load16x4_s offset=${8 * v} (local.get $r))`);
    emit(`    (local.set $a${v} (f32x4.add (local.get $a${v}) (f32x4.mul (local.get $xv) ${w})))`);
  }
  emit('    (local.set $nz (i32.add (local.get $nz) (i32.const 8)))');
  emit('    (br $next)))');
  emit('  (if (local.get $relu) (then');
  for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (f32x4.pmax (global.get $zero) (local.get $a${v})))`);
  emit('  ) (else');
  for (let v = 0; v < V; v++) emit(`    (v128.store offset=${16 * v} (local.get $y) (local.get $a${v}))`);
  emit('  )))');
}

/** int8 block kernel over V 16-byte loads (8·V outputs): i32 accumulators stored to $acc. */
function int8Block(V: number): void {
  emit(`(func $blk_i8_${V} (param $nz i32) (param $cnt i32) (param $w i32) (param $acc i32)`);
  emit(`  ${locals('a', 2 * V, 'v128')} (local $q v128) (local $r i32) (local $end i32)`);
  emit('  (local.set $end (i32.add (local.get $nz) (i32.shl (local.get $cnt) (i32.const 3))))');
  emit('  (block $done (loop $next');
  emit('    (br_if $done (i32.ge_u (local.get $nz) (local.get $end)))');
  emit('    (local.set $q (v128.load32_splat (local.get $nz)))');
  emit('    (local.set $r (i32.add (local.get $w) (i32.load offset=4 (local.get $nz))))');
  // Each half widened as it is loaded (load8x8_s), as in mlp-source.ts's int8 block.
  for (let v = 0; v < V; v++) {
    emit(`    (local.set $a${2 * v} (i32x4.add (local.get $a${2 * v}) (i32x4.dot_i16x8_s (v128.load8x8_s offset=${16 * v} (local.get $r)) (local.get $q))))`);
    emit(`    (local.set $a${2 * v + 1} (i32x4.add (local.get $a${2 * v + 1}) (i32x4.dot_i16x8_s (v128.load8x8_s offset=${16 * v + 8} (local.get $r)) (local.get $q))))`);
  }
  emit('    (local.set $nz (i32.add (local.get $nz) (i32.const 8)))');
  emit('    (br $next)))');
  for (let v = 0; v < 2 * V; v++) emit(`  (v128.store offset=${16 * v} (local.get $acc) (local.get $a${v}))`);
  emit(')');
}

/** Dispatch on the block width V (1 … max) with br_table. */
function dispatcher(name: string, target: (V: number) => string, max: number, params: string, args: string): void {
  emit(`(func $${name} (param $V i32) ${params}`);
  const labels = Array.from({ length: max + 1 }, (_, v) => `$v${v}`);
  // Nested blocks: br_table jumps out of block $vK, after which case K's call runs.
  let body = `(br_table ${labels.join(' ')} (local.get $V))`;
  for (let v = 0; v <= max; v++) {
    body = `(block $v${v} ${body})${v === 0 ? ' (return)' : ` (call ${target(v)} ${args}) (return)`}`;
  }
  emit(`  ${body}`);
  emit(')');
}

/**
 * Dense float layer over n images: $kind f32 or f16 weights ([inDim, outDim] row-major,
 * element size $es), bias f32, scratch: nz lists [n × inDim × 8 bytes], counts [n × 4],
 * tmp [BLOCK × 4] for a partial last block.
 */
function floatLayer(kind: 'f32' | 'f16'): void {
  const es = kind === 'f32' ? 4 : 2;
  emit(`(func (export "dense_${kind}") (param $x i32) (param $n i32) (param $inDim i32) (param $outDim i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32) (param $nz i32) (param $cnt i32) (param $tmp i32)`);
  emit('  (local $j i32) (local $ob i32) (local $rem i32) (local $V i32) (local $rowBytes i32) (local $nzj i32) (local $k i32) (local $dst i32)');
  emit(`  (local.set $rowBytes (i32.mul (local.get $outDim) (i32.const ${es})))`);
  emit('  (local.set $j (i32.const 0))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))');
  emit('      (call $nzlist_f32 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 2))) (local.get $inDim) (local.get $rowBytes)');
  emit('        (i32.add (local.get $nz) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 3)))))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit('  (local.set $ob (i32.const 0))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $ob) (local.get $outDim)))');
  emit('    (local.set $rem (i32.sub (local.get $outDim) (local.get $ob)))');
  emit(`    (local.set $V (select (i32.const ${F32_VECTORS}) (i32.shr_u (i32.add (local.get $rem) (i32.const 3)) (i32.const 2)) (i32.ge_u (local.get $rem) (i32.const ${BLOCK}))))`);
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (local.set $nzj (i32.add (local.get $nz) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 3))))');
  emit('      (local.set $dst (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $outDim)) (local.get $ob)) (i32.const 2))))');
  emit(`      (if (i32.ge_u (local.get $rem) (i32.const ${BLOCK})) (then`);
  emit(`        (call $blk_${kind} (local.get $V) (local.get $nzj) (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (i32.add (local.get $w) (i32.mul (local.get $ob) (i32.const ${es}))) (i32.add (local.get $b) (i32.shl (local.get $ob) (i32.const 2))) (local.get $dst) (local.get $relu))`);
  emit('      ) (else');
  // A partial block stores whole vectors into tmp, then copies the valid outputs.
  emit(`        (call $blk_${kind} (local.get $V) (local.get $nzj) (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (i32.add (local.get $w) (i32.mul (local.get $ob) (i32.const ${es}))) (i32.add (local.get $b) (i32.shl (local.get $ob) (i32.const 2))) (local.get $tmp) (local.get $relu))`);
  emit('        (memory.copy (local.get $dst) (local.get $tmp) (i32.shl (local.get $rem) (i32.const 2)))');
  emit('      ))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2)))');
  emit(`    (local.set $ob (i32.add (local.get $ob) (i32.const ${BLOCK}))) (br $l1)))`);
  emit(')');
}

/**
 * Inline statements: $target (i32) = clamp(roundHalfAway(v), lo, hi), v an f64 expression.
 * roundHalfAway as in int8.ts (Math.round mirrored for negatives): |v|'s floor, plus 1 when the
 * exact fraction |v| − floor|v| is ≥ 0.5, with v's sign. Truncation saturates (NaN → 0, as an
 * Int8Array store makes it), then the clamp is done on integers. Needs f64 locals $rv $ra $rf.
 */
function rhaClamp(target: string, v: string, lo: string, hi: string): string {
  return `(local.set $rv ${v}) (local.set $ra (f64.abs (local.get $rv))) (local.set $rf (f64.floor (local.get $ra)))` +
    ` (local.set ${target} (i32.trunc_sat_f64_s (f64.copysign (f64.add (local.get $rf) (f64.convert_i32_u (f64.ge (f64.sub (local.get $ra) (local.get $rf)) (f64.const 0.5)))) (local.get $rv))))` +
    ` (local.set ${target} (select ${lo} (select ${hi} (local.get ${target}) (i32.gt_s (local.get ${target}) ${hi})) (i32.lt_s (local.get ${target}) ${lo})))`;
}
const RHA_LOCALS = '(local $rv f64) (local $ra f64) (local $rf f64)';

/**
 * int8 layer over n images. mode 0 = dynamic (x f32; per image and layer scale m/127; y f32 =
 * acc · (scale_x · s_w[o]) + b[o], ReLU'd), mode 1 = full (x int8 codes, d = q − zpIn; y int8 =
 * clamp(rha((acc + qb[o]) · M[o]) + zpOut, lo, 127)).
 */
function int8Layer(): void {
  emit('(func (export "int8_layer") (param $mode i32) (param $x i32) (param $n i32) (param $inDim i32) (param $outDim i32) (param $w i32)');
  emit('  (param $scales i32) (param $b i32) (param $y i32) (param $relu i32) (param $zpIn i32) (param $zpOut i32) (param $lo i32)');
  emit('  (param $nz i32) (param $cnt i32) (param $acc i32)');
  emit('  (local $j i32) (local $ob i32) (local $rem i32) (local $V i32) (local $pairs i32) (local $rowBytes i32) (local $nzj i32) (local $o i32)');
  emit(`  (local $sx f64) (local $v f64) (local $accj i32) (local $t i32) ${RHA_LOCALS}`);
  emit('  (local.set $pairs (i32.shr_u (i32.add (local.get $inDim) (i32.const 1)) (i32.const 1)))');
  emit('  (local.set $rowBytes (i32.shl (local.get $outDim) (i32.const 1)))');
  // 1. nonzero input pairs of every image (and, dynamic, each image's scale into $acc scratch? no: recomputed below)
  emit('  (local.set $j (i32.const 0))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (local.set $nzj (i32.add (local.get $nz) (i32.shl (i32.mul (local.get $j) (local.get $pairs)) (i32.const 3))))');
  emit('    (if (i32.eqz (local.get $mode)) (then');
  emit('      (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3)))');
  emit('        (call $pairs_dynamic (i32.add (local.get $x) (i32.shl (i32.mul (local.get $j) (local.get $inDim)) (i32.const 2))) (local.get $inDim) (local.get $rowBytes) (local.get $nzj)');
  emit('          (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))))');
  emit('    ) (else');
  emit('      (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))');
  emit('        (call $pairs_full (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $inDim))) (local.get $inDim) (local.get $zpIn) (local.get $rowBytes) (local.get $nzj)))');
  emit('    ))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  // 2. blocks × images; accumulators of image j go to acc + n·8 + …, then the scalar epilogue.
  emit('  (local.set $accj (i32.add (local.get $acc) (i32.shl (local.get $n) (i32.const 3))))');
  emit('  (local.set $ob (i32.const 0))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $ob) (local.get $outDim)))');
  emit('    (local.set $rem (i32.sub (local.get $outDim) (local.get $ob)))');
  emit(`    (if (i32.gt_u (local.get $rem) (i32.const ${BLOCK})) (then (local.set $rem (i32.const ${BLOCK}))))`);
  emit('    (local.set $V (i32.shr_u (i32.add (local.get $rem) (i32.const 7)) (i32.const 3)))');
  emit('    (local.set $j (i32.const 0))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('      (call $blk_i8 (local.get $V) (i32.add (local.get $nz) (i32.shl (i32.mul (local.get $j) (local.get $pairs)) (i32.const 3)))');
  emit('        (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $j) (i32.const 2)))) (i32.add (local.get $w) (i32.shl (local.get $ob) (i32.const 1))) (local.get $accj))');
  emit('      (local.set $o (i32.const 0))');
  emit('      (if (i32.eqz (local.get $mode)) (then');
  emit('        (local.set $sx (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3)))))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $o) (local.get $rem)))');
  emit('          (local.set $v (f64.add');
  emit('            (f64.mul (f64.convert_i32_s (i32.load (i32.add (local.get $accj) (i32.shl (local.get $o) (i32.const 2)))))');
  emit('              (f64.mul (local.get $sx) (f64.promote_f32 (f32.load (i32.add (local.get $scales) (i32.shl (i32.add (local.get $ob) (local.get $o)) (i32.const 2)))))))');
  emit('            (f64.promote_f32 (f32.load (i32.add (local.get $b) (i32.shl (i32.add (local.get $ob) (local.get $o)) (i32.const 2)))))))');
  emit('          (if (i32.and (local.get $relu) (i32.eqz (f64.gt (local.get $v) (f64.const 0)))) (then (local.set $v (f64.const 0))))');
  emit('          (f32.store (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $outDim)) (i32.add (local.get $ob) (local.get $o))) (i32.const 2)))');
  emit('            (f32.demote_f64 (local.get $v)))');
  emit('          (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l3)))');
  emit('      ) (else');
  emit('        (block $d4 (loop $l4');
  emit('          (br_if $d4 (i32.ge_u (local.get $o) (local.get $rem)))');
  emit(`          ${rhaClamp('$t', `(f64.mul
                (f64.add (f64.convert_i32_s (i32.load (i32.add (local.get $accj) (i32.shl (local.get $o) (i32.const 2)))))
                         (f64.convert_i32_s (i32.load (i32.add (local.get $b) (i32.shl (i32.add (local.get $ob) (local.get $o)) (i32.const 2))))))
                (f64.load (i32.add (local.get $scales) (i32.shl (i32.add (local.get $ob) (local.get $o)) (i32.const 3)))))`, '(i32.const -1000)', '(i32.const 1000)')}`);
  emit('          (local.set $t (i32.add (local.get $t) (local.get $zpOut)))');
  emit('          (i32.store8 (i32.add (local.get $y) (i32.add (i32.mul (local.get $j) (local.get $outDim)) (i32.add (local.get $ob) (local.get $o))))');
  emit('            (select (local.get $lo) (select (i32.const 127) (local.get $t) (i32.gt_s (local.get $t) (i32.const 127))) (i32.lt_s (local.get $t) (local.get $lo))))');
  emit('          (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l4)))');
  emit('      ))');
  emit('      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2)))');
  emit(`    (local.set $ob (i32.add (local.get $ob) (i32.const ${BLOCK}))) (br $l1)))`);
  emit(')');
}

function helpers(): void {
  // Nonzero float inputs of one image as (row byte offset, value) entries; returns their count.
  emit('(func $nzlist_f32 (param $x i32) (param $inDim i32) (param $rowBytes i32) (param $out i32) (result i32)');
  emit('  (local $i i32) (local $v f32) (local $p i32)');
  emit('  (local.set $p (local.get $out))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  // Branch-free compaction: always write the entry, advance only past a nonzero.
  emit('    (i32.store (local.get $p) (i32.mul (local.get $i) (local.get $rowBytes)))');
  emit('    (f32.store offset=4 (local.get $p) (local.get $v))');
  emit('    (local.set $p (i32.add (local.get $p) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))');
  emit('  (i32.shr_u (i32.sub (local.get $p) (local.get $out)) (i32.const 3)))');

  // Dynamic quantization of one image: m = max|x|; q = clamp(rha(x · (127/m)), ±127);
  // nonzero pairs as (q0 | q1 << 16, pair row byte offset). Stores the count, returns m / 127.
  emit('(func $pairs_dynamic (param $x i32) (param $inDim i32) (param $rowBytes i32) (param $out i32) (param $cntPtr i32) (result f64)');
  emit(`  (local $i i32) (local $m f64) (local $a f64) (local $inv f64) (local $q0 i32) (local $q1 i32) (local $p i32) (local $v f32) ${RHA_LOCALS}`);
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $a (f64.abs (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))');
  emit('    (if (f64.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))');
  emit('  (local.set $p (local.get $out))');
  emit('  (if (f64.gt (local.get $m) (f64.const 0)) (then');
  emit('    (local.set $inv (f64.div (f64.const 127) (local.get $m)))');
  emit('    (local.set $i (i32.const 0))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $i) (local.get $inDim)))');
  // A zero input quantizes to 0 without the rounding.
  emit('      (local.set $q0 (i32.const 0)) (local.set $q1 (i32.const 0))');
  emit('      (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  emit(`      (if (f32.ne (local.get $v) (f32.const 0)) (then ${rhaClamp('$q0', '(f64.mul (f64.promote_f32 (local.get $v)) (local.get $inv))', '(i32.const -127)', '(i32.const 127)')}))`);
  emit('      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $inDim)) (then');
  emit('        (local.set $v (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  emit(`        (if (f32.ne (local.get $v) (f32.const 0)) (then ${rhaClamp('$q1', '(f64.mul (f64.promote_f32 (local.get $v)) (local.get $inv))', '(i32.const -127)', '(i32.const 127)')}))))`);
  emit('      (i32.store (local.get $p) (i32.or (i32.and (local.get $q0) (i32.const 0xffff)) (i32.shl (local.get $q1) (i32.const 16))))');
  emit('      (i32.store offset=4 (local.get $p) (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $rowBytes)))');
  emit('      (local.set $p (i32.add (local.get $p) (i32.shl (i32.ne (i32.or (local.get $q0) (local.get $q1)) (i32.const 0)) (i32.const 3))))'); // branch-free
  emit('      (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l2)))))');
  emit('  (i32.store (local.get $cntPtr) (i32.shr_u (i32.sub (local.get $p) (local.get $out)) (i32.const 3)))');
  emit('  (f64.div (local.get $m) (f64.const 127)))');

  // Full int8: d = q − zpIn per input; nonzero pairs; returns their count.
  emit('(func $pairs_full (param $x i32) (param $inDim i32) (param $zp i32) (param $rowBytes i32) (param $out i32) (result i32)');
  emit('  (local $i i32) (local $d0 i32) (local $d1 i32) (local $p i32)');
  emit('  (local.set $p (local.get $out))');
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $d0 (i32.sub (i32.load8_s (i32.add (local.get $x) (local.get $i))) (local.get $zp)))');
  emit('    (local.set $d1 (i32.const 0))');
  emit('    (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $inDim)) (then');
  emit('      (local.set $d1 (i32.sub (i32.load8_s offset=1 (i32.add (local.get $x) (local.get $i))) (local.get $zp)))))');
  emit('    (i32.store (local.get $p) (i32.or (i32.and (local.get $d0) (i32.const 0xffff)) (i32.shl (local.get $d1) (i32.const 16))))');
  emit('    (i32.store offset=4 (local.get $p) (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (local.get $rowBytes)))');
  emit('    (local.set $p (i32.add (local.get $p) (i32.shl (i32.ne (i32.or (local.get $d0) (local.get $d1)) (i32.const 0)) (i32.const 3))))'); // branch-free
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l)))');
  emit('  (i32.shr_u (i32.sub (local.get $p) (local.get $out)) (i32.const 3)))');

  // Input quantization of int8-full: q = clamp(rha(x / scale) + zp, −128, 127), len values.
  emit('(func (export "quantize_input") (param $x i32) (param $len i32) (param $scale f64) (param $zp i32) (param $q i32)');
  emit(`  (local $i i32) (local $t i32) (local $v f32) ${RHA_LOCALS}`);
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $i) (local.get $len)))');
  // rha(x / s) is an integer, so rha(x / s) + zp clamped = clamp(trunc(rha(x / s)) + zp) unless it saturates int32 (then the clamp gives the same bound).
  emit('    (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('    (local.set $rv (f64.const 0)) (local.set $t (i32.const 0))'); // a zero input (most pixels) needs no division
  emit(`    (if (f32.ne (local.get $v) (f32.const 0)) (then ${rhaClamp('$t', '(f64.div (f64.promote_f32 (local.get $v)) (local.get $scale))', '(i32.const -1000)', '(i32.const 1000)')}))`);
  emit('    (local.set $t (select (i32.const 0) (i32.add (local.get $t) (local.get $zp)) (f64.ne (local.get $rv) (local.get $rv))))'); // NaN → 0, as in JS
  emit('    (i32.store8 (i32.add (local.get $q) (local.get $i)) (select (i32.const -128) (select (i32.const 127) (local.get $t) (i32.gt_s (local.get $t) (i32.const 127))) (i32.lt_s (local.get $t) (i32.const -128))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))');
  emit(')');

  // CSR layer over n images: for each input row i, for each image with x[j, i] ≠ 0, scatter-add.
  // Rows outer so a row's indices and values are read once per tile. y starts as the bias.
  emit('(func (export "sparse_f32") (param $x i32) (param $n i32) (param $inDim i32) (param $outDim i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $b i32) (param $y i32) (param $relu i32)');
  emit('  (local $j i32) (local $i i32) (local $k i32) (local $end i32) (local $xi f32) (local $yj i32) (local $o i32) (local $p i32)');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('    (memory.copy (i32.add (local.get $y) (i32.shl (i32.mul (local.get $j) (local.get $outDim)) (i32.const 2))) (local.get $b) (i32.shl (local.get $outDim) (i32.const 2)))');
  emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
  emit('  (block $d1 (loop $l1');
  emit('    (br_if $d1 (i32.ge_u (local.get $i) (local.get $inDim)))');
  emit('    (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('    (if (i32.gt_u (local.get $end) (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2))))) (then');
  emit('      (local.set $j (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))');
  emit('        (local.set $xi (f32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $inDim)) (local.get $i)) (i32.const 2)))))');
  emit('        (if (f32.ne (local.get $xi) (f32.const 0)) (then');
  emit('          (local.set $yj (i32.add (local.get $y) (i32.shl (i32.mul (local.get $j) (local.get $outDim)) (i32.const 2))))');
  emit('          (local.set $k (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))');
  emit('          (block $d3 (loop $l3');
  emit('            (br_if $d3 (i32.ge_u (local.get $k) (local.get $end)))');
  emit('            (local.set $p (i32.add (local.get $yj) (i32.shl (i32.load16_u (i32.add (local.get $col) (i32.shl (local.get $k) (i32.const 1)))) (i32.const 2))))');
  emit('            (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $xi) (f32.load (i32.add (local.get $val) (i32.shl (local.get $k) (i32.const 2)))))))');
  emit('            (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $l3)))))');
  emit('        (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l2)))))');
  emit('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  emit('  (if (local.get $relu) (then');
  emit('    (local.set $end (i32.mul (local.get $n) (local.get $outDim)))');
  emit('    (block $d4 (loop $l4');
  emit('      (br_if $d4 (i32.ge_u (local.get $o) (local.get $end)))');
  emit('      (local.set $p (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))');
  emit('      (if (i32.eqz (f32.gt (f32.load (local.get $p)) (f32.const 0))) (then (f32.store (local.get $p) (f32.const 0))))');
  emit('      (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l4)))))');
  emit(')');

  // Row argmax: first maximum, NaN never the maximum (as argmax in kernels.ts). f32 or int8 rows.
  for (const [name, load, size] of [['argmax_f32', 'f32.load', 2], ['argmax_i8', 'i32.load8_s', 0]] as const) {
    const type = name === 'argmax_f32' ? 'f32' : 'i32';
    const gt = name === 'argmax_f32' ? 'f32.gt' : 'i32.gt_s';
    const init = name === 'argmax_f32' ? '(f32.const -inf)' : '(i32.const -129)';
    emit(`(func (export "${name}") (param $y i32) (param $n i32) (param $d i32) (param $out i32)`);
    emit(`  (local $j i32) (local $o i32) (local $best i32) (local $bv ${type}) (local $v ${type}) (local $row i32)`);
    emit('  (block $d0 (loop $l0');
    emit('    (br_if $d0 (i32.ge_u (local.get $j) (local.get $n)))');
    emit(`    (local.set $row (i32.add (local.get $y) (i32.shl (i32.mul (local.get $j) (local.get $d)) (i32.const ${size}))))`);
    emit(`    (local.set $best (i32.const 0)) (local.set $bv ${init}) (local.set $o (i32.const 0))`);
    emit('    (block $d1 (loop $l1');
    emit('      (br_if $d1 (i32.ge_u (local.get $o) (local.get $d)))');
    emit(`      (local.set $v (${load} (i32.add (local.get $row) (i32.shl (local.get $o) (i32.const ${size})))))`);
    emit(`      (if (${gt} (local.get $v) (local.get $bv)) (then (local.set $bv (local.get $v)) (local.set $best (local.get $o))))`);
    emit('      (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l1)))');
    emit('    (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 1))) (local.get $best))');
    emit('    (local.set $j (i32.add (local.get $j) (i32.const 1))) (br $l0)))');
    emit(')');
  }
}

/**
 * One image, whole rows: acc[0 … outDim) in memory (L1) += x_i · W[i, :] for each nonzero
 * input, so the weights stream through once in address order — faster than the block kernel
 * when they come from DRAM (a live prediction cycling through many models). Same additions in
 * the same order per output as the block kernel: identical results.
 */
function rowLayer(kind: 'f32' | 'f16'): void {
  const es = kind === 'f32' ? 4 : 2;
  const load = (off: string) => kind === 'f32'
    ? `(v128.load ${off} (local.get $r))`
    : f16Value(`(v128.load16x4_s ${off.replace(/offset=(\d+)/, (_, n) => `offset=${Number(n) / 2}`)} (local.get $r))`);
  emit(`(func (export "row_${kind}") (param $x i32) (param $inDim i32) (param $outDim i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32) (param $nz i32) (param $acc i32)`);
  emit('  (local $cnt i32) (local $p i32) (local $end i32) (local $xv v128) (local $r i32) (local $a i32) (local $aend i32) (local $rowBytes i32)');
  emit(`  (local.set $rowBytes (i32.mul (local.get $outDim) (i32.const ${es})))`);
  emit('  (local.set $cnt (call $nzlist_f32 (local.get $x) (local.get $inDim) (local.get $rowBytes) (local.get $nz)))');
  emit('  (memory.copy (local.get $acc) (local.get $b) (i32.shl (local.get $outDim) (i32.const 2)))');
  // acc covers whole vectors: outDim rounded up to 4 (the tail lanes are never copied out).
  emit('  (local.set $aend (i32.add (local.get $acc) (i32.shl (i32.and (i32.add (local.get $outDim) (i32.const 3)) (i32.const -4)) (i32.const 2))))');
  emit('  (local.set $p (local.get $nz))');
  emit('  (local.set $end (i32.add (local.get $nz) (i32.shl (local.get $cnt) (i32.const 3))))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $p) (local.get $end)))');
  emit('    (local.set $xv (v128.load32_splat offset=4 (local.get $p)))');
  emit('    (local.set $r (i32.add (local.get $w) (i32.load (local.get $p))))');
  emit('    (local.set $a (local.get $acc))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $a) (local.get $aend)))');
  emit(`      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $xv) ${load('offset=0')})))`);
  emit('      (local.set $a (i32.add (local.get $a) (i32.const 16)))');
  emit(`      (local.set $r (i32.add (local.get $r) (i32.const ${4 * es})))`);
  emit('      (br $l1)))');
  emit('    (local.set $p (i32.add (local.get $p) (i32.const 8)))');
  emit('    (br $l0)))');
  emit('  (if (local.get $relu) (then');
  emit('    (local.set $a (local.get $acc))');
  emit('    (block $d2 (loop $l2');
  emit('      (br_if $d2 (i32.ge_u (local.get $a) (local.get $aend)))');
  emit('      (v128.store (local.get $a) (f32x4.pmax (global.get $zero) (v128.load (local.get $a))))');
  emit('      (local.set $a (i32.add (local.get $a) (i32.const 16)))');
  emit('      (br $l2)))))');
  emit('  (memory.copy (local.get $y) (local.get $acc) (i32.shl (local.get $outDim) (i32.const 2))))');
}

/**
 * Training: the weight gradient of a stride-1 convolution, dW[t, f] = Σ_pixels x[pixel + t]·dz[pixel, f]
 * for the patch entries t = (ky·k + kx)·c + ci, with no patch matrix. One call covers R
 * consecutive entries and V vectors (4·V ≥ F columns) in R·V register accumulators: for every
 * output pixel (b, oy, ox) it loads dz's row once and each entry's input value once (its byte
 * offset from the pixel's corner, from $offs), so memory traffic is one pass over dz per call.
 * x is zero-padded by the caller ([B, hp, wp, c]), so no bounds tests. dz rows are F floats
 * apart; a row of F < 4·V reads the next row's first values into lanes the caller ignores.
 * Stores the block at dw [R, 4·V]. Each lane is one float32 running sum over the pixels in
 * order (b, oy, ox).
 */
function convWeightGradBlock(R: number, V: number): void {
  emit(`(func (export "conv_dw_${R}_${V}") (param $xp i32) (param $dz i32) (param $dw i32) (param $offs i32) (param $B i32) (param $oh i32) ` +
    '(param $owBytes i32) (param $rowBytes i32) (param $imgBytes i32) (param $pixBytes i32) (param $dzStride i32)');
  const acc = Array.from({ length: R }, (_, r) => locals(`a${r}_`, V, 'v128')).join(' ');
  emit(`  ${acc} ${locals('d', V, 'v128')} (local $xv v128) ${locals('o', R, 'i32')}`);
  emit('  (local $b i32) (local $oy i32) (local $img i32) (local $row i32) (local $px i32) (local $pend i32) (local $pz i32)');
  for (let r = 0; r < R; r++) emit(`  (local.set $o${r} (i32.load offset=${4 * r} (local.get $offs)))`);
  emit('  (local.set $pz (local.get $dz)) (local.set $img (local.get $xp))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $B)))');
  emit('    (local.set $row (local.get $img)) (local.set $oy (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('      (local.set $px (local.get $row)) (local.set $pend (i32.add (local.get $row) (local.get $owBytes)))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $px) (local.get $pend)))');
  for (let v = 0; v < V; v++) emit(`        (local.set $d${v} (v128.load offset=${16 * v} (local.get $pz)))`);
  for (let r = 0; r < R; r++) {
    emit(`        (local.set $xv (v128.load32_splat (i32.add (local.get $px) (local.get $o${r}))))`);
    for (let v = 0; v < V; v++) emit(`        (local.set $a${r}_${v} (f32x4.add (local.get $a${r}_${v}) (f32x4.mul (local.get $xv) (local.get $d${v}))))`);
  }
  emit('        (local.set $px (i32.add (local.get $px) (local.get $pixBytes)))');
  emit('        (local.set $pz (i32.add (local.get $pz) (local.get $dzStride)))');
  emit('        (br $l2)))');
  emit('      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))');
  emit('      (local.set $oy (i32.add (local.get $oy) (i32.const 1)))');
  emit('      (br $l1)))');
  emit('    (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1)))');
  emit('    (br $l0)))');
  for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) emit(`  (v128.store offset=${16 * (r * V + v)} (local.get $dw) (local.get $a${r}_${v}))`);
  emit(')');
}

/** Training: out[0 … 4·V) = Σ over M rows (stride bytes apart) of each row's first 4·V floats (a bias gradient). */
function columnSums(): void {
  emit('(func (export "col_sums") (param $p i32) (param $M i32) (param $stride i32) (param $V i32) (param $out i32)');
  emit('  (local $m i32) (local $v i32) (local $q i32) (local $o i32)');
  emit('  (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $V) (i32.const 4)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $m) (local.get $M)))');
  emit('    (local.set $q (local.get $p)) (local.set $o (local.get $out)) (local.set $v (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $v) (local.get $V)))');
  emit('      (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (v128.load (local.get $q))))');
  emit('      (local.set $q (i32.add (local.get $q) (i32.const 16))) (local.set $o (i32.add (local.get $o) (i32.const 16)))');
  emit('      (local.set $v (i32.add (local.get $v) (i32.const 1))) (br $l1)))');
  emit('    (local.set $p (i32.add (local.get $p) (local.get $stride)))');
  emit('    (local.set $m (i32.add (local.get $m) (i32.const 1))) (br $l0)))');
  emit(')');
}

/** Column vectors of the weight-gradient kernel per call: wider F goes in slices of this many. */
export const DW_MAX_VECTORS = 4;
/** Patch entries per call for V vectors: R·V ≤ 12 accumulators, as in the dense kernels. */
export const dwRows = (V: number) => Math.floor(F32_VECTORS / V);

/** The whole module as WebAssembly text (SIMD and bulk memory). */
export function kernelsWat(): string {
  lines.length = 0;
  emit('(module');
  emit('(memory (export "memory") 1)');
  emit('(global $zero v128 (v128.const f32x4 0 0 0 0))');
  emit('(global $f16mask v128 (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff))');
  emit('(global $f16scale v128 (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))');
  for (let V = 1; V <= F32_VECTORS; V++) floatBlock('f32', V);
  for (let V = 1; V <= F32_VECTORS; V++) floatBlock('f16', V);
  for (let V = 1; V <= I8_LOADS; V++) int8Block(V);
  const fp = '(param $nz i32) (param $cnt i32) (param $w i32) (param $b i32) (param $y i32) (param $relu i32)';
  const fa = '(local.get $nz) (local.get $cnt) (local.get $w) (local.get $b) (local.get $y) (local.get $relu)';
  dispatcher('blk_f32', (V) => `$blk_f32_${V}`, F32_VECTORS, fp, fa);
  dispatcher('blk_f16', (V) => `$blk_f16_${V}`, F32_VECTORS, fp, fa);
  dispatcher('blk_i8', (V) => `$blk_i8_${V}`, I8_LOADS, '(param $nz i32) (param $cnt i32) (param $w i32) (param $acc i32)', '(local.get $nz) (local.get $cnt) (local.get $w) (local.get $acc)');
  helpers();
  floatLayer('f32');
  floatLayer('f16');
  rowLayer('f32');
  rowLayer('f16');
  int8Layer();
  for (let V = 1; V <= DW_MAX_VECTORS; V++) for (let R = 1; R <= dwRows(V); R++) convWeightGradBlock(R, V);
  columnSums();
  emit(convKernelsWat());
  emit(mlpKernelsWat());
  emit(mlpTrainWat());
  emit(cnnTrainWat());
  emit(')');
  return lines.join('\n');
}
