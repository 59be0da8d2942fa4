/**
 * The WebAssembly text of the convolutional kernels (conv, max pooling, residual add, global
 * average pooling) for every model kind, generated like source.ts: the register-blocked inner
 * loops are unrolled per block shape. `kernelsWat()` appends this text to the module.
 *
 * Layout. A tensor is stored planar, CHW: channel c's plane is its h × w values row-major.
 * Before a conv, its input is copied once into a zero-padded buffer, split into column phases
 * for a strided conv: phase φ holds the padded columns φ, φ + s, φ + 2s… of every row, so the
 * input columns an output row reads for one kernel tap are contiguous:
 *   pad[c][φ][row][j] = x[c][row − p][j·s + φ − p]      (0 outside the image)
 *   byte offset of tap (ky, kx, c) from output (oy, ox)'s tile base:
 *     ky·rowBytes + (kx mod s)·phaseBytes + (kx div s)·4 + c·chanBytes
 * with rowBytes = Wq·4 (Wq = ceil((w + 2p) / s)), phaseBytes = Hp·rowBytes, chanBytes = s·phaseBytes.
 *
 * The conv kernel vectorizes along output columns (4 per vector) and blocks R output rows × V
 * vectors of one filter in R·V ≤ 12 registers. For each tap it splats the tap's weight once and
 * multiply-adds it into the R·V accumulators from contiguous input loads (offset immediates),
 * so the work is proportional to the taps it visits: the sparse kernel visits only a filter's
 * nonzero taps (per-filter lists of 16-bit tap indices and values, and one tap → offset table),
 * so its time falls with sparsity; the dense kernels visit every tap in nested loops (an outer
 * table of k·k spatial offsets, channels inside at a fixed stride), with no per-tap index. A
 * row's last vector may hold columns past the output width: it is stored by read-modify-write
 * through a lane mask, so nothing outside the tensor changes.
 *
 * Arithmetic. Float kinds sum one float32 product per tap, in tap order (ky, kx, c) — the HWIO
 * kernel's row order — starting from the (BatchNorm-folded) bias, then ReLU: the sparse kernel
 * gives the dense kernel's outputs bit for bit on the same weights (a skipped zero weight adds
 * ±0), f16 those of the dense kernel on its decoded weights. Against the float64 JS reference
 * kernels (arch-kernels.ts) they differ by float32 rounding. Pooling, add and global pooling
 * perform the JS kernels' operations in the same order, and are bit-exact.
 *
 * int8 convs sum exact integer products with i32x4.dot_i16x8_s over pairs of taps: the input is
 * widened to 16-bit values (q for dynamic range, q − zp_in for full int8; padding 0) and laid
 * out so that one 16-byte load holds 4 output columns × 2 taps — channel pairs (c, c+1) when the
 * channel count is even, else column pairs (kx, kx + s) of one channel. The weights stay int8,
 * two bytes per tap pair. The float parts (scales, requantization, rounding half away from
 * zero) are float64 lane operations that perform the JS reference's IEEE operations in its
 * order, so int8 kinds are bit-exact with arch-kernels.ts.
 */

/**
 * Most filters, rows and vectors per register block, and most accumulators in one block. With
 * more than 8 live accumulators V8 hoists the block's loads above the multiply-adds and spills
 * to the stack; blocks of 2 filters halve the input loads per multiply-add. Measured on lenet5
 * and resnet-20 against blocks of up to 4 × 4 × 6 and 12 accumulators: as fast or faster, and
 * the smallest module.
 */
export const CONV_MAX_FILTERS = 2;
export const CONV_MAX_ROWS = 2;
export const CONV_MAX_VECTORS = 4;
export const CONV_ACCUMULATORS = 8;

type Kind = 'f32' | 'csr' | 'i8d' | 'i8f';
const KINDS: Kind[] = ['f32', 'csr', 'i8d', 'i8f'];

/** The exports this file adds (pointers are byte offsets into the module's memory). */
export interface ConvExports {
  /** Float conv of one image: x padded (see above) → y [F][oh][ow] f32. */
  cnn_conv_f32: ConvFn;
  cnn_conv_csr: ConvFn;
  /** int8 convs: x the pair buffer (cnn_pairs); i8d → y f32, i8f → y int8 codes. */
  cnn_conv_i8d: ConvFn;
  cnn_conv_i8f: ConvFn;
  cnn_pad(src: number, C: number, H: number, W: number, dst: number, p: number, s: number, Hp: number, Wq: number, es: number): void;
  cnn_quantize_q(mode: number, src: number, n: number, dst: number, zp: number, inv: number): void;
  cnn_quantize_input(src: number, n: number, scale: number, zp: number, dst: number): void;
  cnn_pairs(mode: number, q: number, planes: number, planeElems: number, dst: number): void;
  cnn_absmax(src: number, n: number): number;
  cnn_maxpool_f32(x: number, C: number, H: number, W: number, size: number, stride: number, oh: number, ow: number, y: number): void;
  cnn_maxpool_i8(x: number, C: number, H: number, W: number, size: number, stride: number, oh: number, ow: number, y: number): void;
  cnn_add_f32(a: number, b: number, n: number, relu: number, y: number): void;
  cnn_add_i8(a: number, zpA: number, ma: number, b: number, zpB: number, mb: number, n: number, zpOut: number, lo: number, y: number): void;
  cnn_gap_f32(x: number, hw: number, C: number, y: number): void;
  cnn_gap_i8(x: number, zpIn: number, hw: number, C: number, mult: number, zpOut: number, y: number): void;
  cnn_sparse_row(x: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, y: number, relu: number): void;
}

/**
 * (x, y, F, oh, ow, w, val, fptr, tab, nA, nB, stepB, xRow, bias, scale, relu, zpOut, lo, sx, fb):
 * w the weights or, for csr, the tap indices (u16); val the csr values; fptr the csr filter
 * starts [F + 1]; tab the outer offset table (dense: nA entries, each followed by nB taps stepB
 * bytes apart; csr: one offset per tap); xRow the input bytes between output rows (s·rowBytes).
 * Dense weights come in groups of fb filters (the last group may be smaller), each group
 * [taps][its filters] (f32, f16; int8: tap pairs [pairs][its filters][2]). bias [F] f32 (i8f:
 * int32); scale: i8d the weight scales [F] f32 (times sx), i8f the multipliers M [F] f64; i8f
 * clamps to [lo, 127]. csr runs one filter per block (fb = 1).
 */
type ConvFn = (x: number, y: number, F: number, oh: number, ow: number, w: number, val: number, fptr: number, tab: number,
  nA: number, nB: number, stepB: number, xRow: number, bias: number, scale: number, relu: number, zpOut: number, lo: number, sx: number, fb: number) => void;

const BLOCK_PARAMS = '(param $x i32) (param $y i32) (param $w i32) (param $val i32) (param $tab i32) (param $nA i32) (param $nB i32) ' +
  '(param $stepB i32) (param $xRow i32) (param $yRow i32) (param $yPlane i32) (param $mask v128) (param $biasP i32) (param $scaleP i32) (param $sx f64) ' +
  '(param $relu i32) (param $zpOut i32) (param $lo i32)';
const BLOCK_ARGS = BLOCK_PARAMS.replace(/\(param (\$\w+) \w+\)/g, '(local.get $1)');

const isInt = (kind: Kind) => kind === 'i8d' || kind === 'i8f';
/** Bytes of one tap's weight (int8: of one tap pair). */
const weightBytes = (kind: Kind) => (kind === 'f32' || kind === 'csr' ? 4 : 2);

/** The register block Fb filters × R rows × V vectors, for one kind. */
function block(kind: Kind, Fb: number, R: number, V: number, e: (s: string) => void): void {
  const acc = (f: number, r: number, v: number) => `$a${f}_${r}_${v}`;
  const all: string[] = [];
  for (let f = 0; f < Fb; f++) for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) all.push(acc(f, r, v));
  const wv = (f: number) => `$w${f}`;
  e(`(func $cnn_${kind}_${Fb}_${R}_${V} ${BLOCK_PARAMS}`);
  e(`  ${all.map((a) => `(local ${a} v128)`).join(' ')} ${Array.from({ length: Fb }, (_, f) => `(local ${wv(f)} v128)`).join(' ')}`);
  e('  (local $xv v128) (local $p i32) (local $pa i32) (local $b i32) (local $end i32) (local $lo2 v128) (local $hi2 v128) (local $t v128) (local $s f64) (local $c f64)');
  if (!isInt(kind)) {
    for (let f = 0; f < Fb; f++) {
      e(`  (local.set $xv (v128.load32_splat offset=${4 * f} (local.get $biasP)))`);
      for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) e(`  (local.set ${acc(f, r, v)} (local.get $xv))`);
    }
  }
  // One tap: the filters' weights are splat once; p walks the R rows from the tap's offset pa,
  // and each input vector is loaded once for all Fb filters.
  const tap = () => {
    e('      (local.set $p (local.get $pa))');
    for (let r = 0; r < R; r++) {
      if (r > 0) e('      (local.set $p (i32.add (local.get $p) (local.get $xRow)))');
      for (let v = 0; v < V; v++) {
        e(`      (local.set $xv (v128.load offset=${16 * v} (local.get $p)))`);
        for (let f = 0; f < Fb; f++) {
          const a = acc(f, r, v);
          e(isInt(kind)
            ? `      (local.set ${a} (i32x4.add (local.get ${a}) (i32x4.dot_i16x8_s (local.get $xv) (local.get ${wv(f)}))))`
            : `      (local.set ${a} (f32x4.add (local.get ${a}) (f32x4.mul (local.get ${wv(f)}) (local.get $xv))))`);
        }
      }
    }
  };
  const es = weightBytes(kind);
  if (kind === 'csr') {
    e('  (local.set $end (i32.add (local.get $w) (i32.shl (local.get $nA) (i32.const 1))))');
    e('  (block $done (loop $next');
    e('    (br_if $done (i32.ge_u (local.get $w) (local.get $end)))');
    e('    (local.set $pa (i32.add (local.get $x) (i32.shl (i32.load16_u (local.get $w)) (i32.const 2))))');
    e(`    (local.set ${wv(0)} (v128.load32_splat (local.get $val)))`);
    tap();
    e('    (local.set $w (i32.add (local.get $w) (i32.const 2)))');
    e('    (local.set $val (i32.add (local.get $val) (i32.const 4)))');
    e('    (br $next)))');
  } else {
    const weight = (f: number) => ({
      f32: `(v128.load32_splat offset=${4 * f} (local.get $w))`,
      // Two int8 taps (t0, t1) as 16-bit lanes t0 t1 t0 t1 …, for dot_i16x8_s.
      i8d: `(i16x8.extend_low_i8x16_s (v128.load16_splat offset=${2 * f} (local.get $w)))`,
      i8f: `(i16x8.extend_low_i8x16_s (v128.load16_splat offset=${2 * f} (local.get $w)))`,
    }[kind as 'f32' | 'i8d' | 'i8f']);
    e('  (local.set $end (i32.add (local.get $tab) (i32.shl (local.get $nA) (i32.const 2))))');
    e('  (loop $outer');
    e('    (local.set $pa (i32.add (local.get $x) (i32.load (local.get $tab))))');
    e('    (local.set $b (local.get $nB))');
    e('    (loop $inner');
    for (let f = 0; f < Fb; f++) e(`      (local.set ${wv(f)} ${weight(f)})`);
    tap();
    e('      (local.set $pa (i32.add (local.get $pa) (local.get $stepB)))');
    e(`      (local.set $w (i32.add (local.get $w) (i32.const ${Fb * es})))`);
    e('      (br_if $inner (local.tee $b (i32.sub (local.get $b) (i32.const 1)))))');
    e('    (local.set $tab (i32.add (local.get $tab) (i32.const 4)))');
    e('    (br_if $outer (i32.lt_u (local.get $tab) (local.get $end))))');
  }
  // Epilogue and stores; the last vector of each row through the mask.
  const store = (v: number, value: string) => {
    const last = v === V - 1;
    if (kind === 'i8f') {
      const off = `offset=${4 * v}`;
      e(last
        ? `  (v128.store32_lane ${off} 0 (local.get $p) (v128.bitselect ${value} (v128.load32_zero ${off} (local.get $p)) (local.get $mask)))`
        : `  (v128.store32_lane ${off} 0 (local.get $p) ${value})`);
    } else {
      const off = `offset=${16 * v}`;
      e(last
        ? `  (v128.store ${off} (local.get $p) (v128.bitselect ${value} (v128.load ${off} (local.get $p)) (local.get $mask)))`
        : `  (v128.store ${off} (local.get $p) ${value})`);
    }
  };
  if (!isInt(kind)) e(`  (if (local.get $relu) (then ${all.map((a) => `(local.set ${a} (f32x4.pmax (global.get $cnn_zero) (local.get ${a})))`).join(' ')}))`);
  // i8d: the ReLU floor, +0 (as `relu && !(v > 0) ? 0 : v`) or −∞.
  if (kind === 'i8d') e('  (local.set $t (select (result v128) (global.get $cnn_zero) (v128.const f64x2 -inf -inf) (local.get $relu)))');
  for (let f = 0; f < Fb; f++) {
    if (kind === 'i8d') {
      // y = acc · (sx · s_w[f]) + b[f] in float64, as convInt8Dynamic, then rounded to float32.
      e(`  (local.set $c (f64.mul (local.get $sx) (f64.promote_f32 (f32.load offset=${4 * f} (local.get $scaleP)))))`);
      e(`  (local.set $s (f64.promote_f32 (f32.load offset=${4 * f} (local.get $biasP))))`);
    }
    if (kind === 'i8f') {
      // q = clamp(roundHalfAway((acc + qb[f]) · M[f]) + zp_out, lo, 127), as convInt8Full.
      e(`  (local.set $s (f64.convert_i32_s (i32.load offset=${4 * f} (local.get $biasP))))`);
      e(`  (local.set $c (f64.load offset=${8 * f} (local.get $scaleP)))`);
    }
    e(f === 0 ? '  (local.set $p (local.get $y))' : `  (local.set $p (i32.add (local.get $y) (i32.mul (local.get $yPlane) (i32.const ${f}))))`);
    for (let r = 0; r < R; r++) {
      if (r > 0) e('  (local.set $p (i32.add (local.get $p) (local.get $yRow)))');
      for (let v = 0; v < V; v++) {
        const a = acc(f, r, v);
        if (!isInt(kind)) {
          store(v, `(local.get ${a})`);
          continue;
        }
        // The two float64 halves of the four int32 sums.
        e(`  (local.set $lo2 (f64x2.convert_low_i32x4_s (local.get ${a})))`);
        e(`  (local.set $hi2 (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get ${a}) (local.get ${a}))))`);
        if (kind === 'i8d') {
          for (const h of ['$lo2', '$hi2']) {
            e(`  (local.set ${h} (f64x2.pmax (local.get $t) (f64x2.add (f64x2.mul (local.get ${h}) (f64x2.splat (local.get $c))) (f64x2.splat (local.get $s)))))`);
          }
          store(v, '(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $lo2)) (f32x4.demote_f64x2_zero (local.get $hi2)))');
          continue;
        }
        for (const h of ['$lo2', '$hi2']) e(`  (local.set ${h} (f64x2.mul (f64x2.add (local.get ${h}) (f64x2.splat (local.get $s))) (f64x2.splat (local.get $c))))`);
        rhaLanes(e, '  ');
        e('  (local.set $xv (local.get $t))');
        // Clamp before adding zp_out so that a saturated sum cannot wrap.
        e('  (local.set $xv (i32x4.add (i32x4.min_s (i32x4.max_s (local.get $xv) (v128.const i32x4 -1000 -1000 -1000 -1000)) (v128.const i32x4 1000 1000 1000 1000)) (i32x4.splat (local.get $zpOut))))');
        e('  (local.set $xv (i32x4.min_s (i32x4.max_s (local.get $xv) (i32x4.splat (local.get $lo))) (v128.const i32x4 127 127 127 127)))');
        e('  (local.set $xv (i16x8.narrow_i32x4_s (local.get $xv) (local.get $xv)))');
        store(v, '(i8x16.narrow_i16x8_s (local.get $xv) (local.get $xv))');
      }
    }
  }
  e(')');
}

/** The block shapes (filters, rows, vectors) of a kind. */
function shapes(kind: Kind): [Fb: number, R: number, V: number][] {
  const out: [number, number, number][] = [];
  for (let Fb = 1; Fb <= (kind === 'csr' ? 1 : CONV_MAX_FILTERS); Fb++) {
    for (let V = 1; V <= CONV_MAX_VECTORS; V++) {
      for (let R = 1; R <= CONV_MAX_ROWS; R++) if (Fb * R * V <= CONV_ACCUMULATORS) out.push([Fb, R, V]);
    }
  }
  return out;
}

const shapeIndex = (Fb: number, R: number, V: number) => ((Fb - 1) * CONV_MAX_ROWS + R - 1) * CONV_MAX_VECTORS + V - 1;

/** Calls the block (Fb, R, V) through br_table on shapeIndex. */
function dispatcher(kind: Kind, e: (s: string) => void): void {
  const valid = new Map(shapes(kind).map((s) => [shapeIndex(...s), s]));
  const n = CONV_MAX_FILTERS * CONV_MAX_ROWS * CONV_MAX_VECTORS;
  e(`(func $cnn_${kind} (param $i i32) ${BLOCK_PARAMS}`);
  let body = `(br_table ${Array.from({ length: n }, (_, i) => `$c${i}`).join(' ')} $c${n} (local.get $i))`;
  for (let i = 0; i <= n; i++) {
    const s = valid.get(i);
    body = `(block $c${i} ${body}) ${s ? `(call $cnn_${kind}_${s.join('_')} ${BLOCK_ARGS}) (return)` : '(unreachable)'}`;
  }
  e(`  ${body}`);
  e(')');
}

/**
 * The exported conv of one kind: per group of fb filters, per chunk of a row's vectors (at most
 * CONV_MAX_VECTORS and CONV_ACCUMULATORS / fb, near-equal chunks), per group of rows, one
 * register block.
 */
function convDriver(kind: Kind, e: (s: string) => void): void {
  const yBytes = kind === 'i8f' ? 1 : 4;
  const vecBytes = 4 * yBytes;
  e(`(func (export "cnn_conv_${kind}") (param $x i32) (param $y i32) (param $F i32) (param $oh i32) (param $ow i32) (param $w i32) (param $val i32)`);
  e('  (param $fptr i32) (param $tab i32) (param $nA i32) (param $nB i32) (param $stepB i32) (param $xRow i32) (param $biasP i32) (param $scaleP i32)');
  e('  (param $relu i32) (param $zpOut i32) (param $lo i32) (param $sx f64) (param $Fb i32)');
  e('  (local $f i32) (local $fb i32) (local $wf i32) (local $valf i32) (local $cnt i32) (local $yf i32) (local $vr i32) (local $nch i32) (local $vmax i32)');
  e('  (local $ch i32) (local $col i32) (local $V i32) (local $R i32) (local $r i32) (local $oy i32) (local $mask v128) (local $valid i32) (local $yRow i32) (local $yPlane i32)');
  if (kind === 'csr') e('  (local.set $Fb (i32.const 1))');
  e(`  (local.set $yRow (i32.mul (local.get $ow) (i32.const ${yBytes})))`);
  e('  (local.set $yPlane (i32.mul (local.get $yRow) (local.get $oh)))');
  e('  (local.set $vr (i32.shr_u (i32.add (local.get $ow) (i32.const 3)) (i32.const 2)))');
  e(`  (local.set $vmax (i32.div_u (i32.const ${CONV_ACCUMULATORS}) (local.get $Fb)))`);
  e(`  (if (i32.gt_u (local.get $vmax) (i32.const ${CONV_MAX_VECTORS})) (then (local.set $vmax (i32.const ${CONV_MAX_VECTORS}))))`);
  e('  (local.set $nch (i32.div_u (i32.add (local.get $vr) (i32.sub (local.get $vmax) (i32.const 1))) (local.get $vmax)))');
  e('  (block $fd (loop $fl');
  e('    (br_if $fd (i32.ge_u (local.get $f) (local.get $F)))');
  e('    (local.set $fb (select (local.get $Fb) (i32.sub (local.get $F) (local.get $f)) (i32.le_u (local.get $Fb) (i32.sub (local.get $F) (local.get $f)))))');
  if (kind === 'csr') {
    e('    (local.set $valf (i32.load (i32.add (local.get $fptr) (i32.shl (local.get $f) (i32.const 2)))))');
    e('    (local.set $cnt (i32.sub (i32.load offset=4 (i32.add (local.get $fptr) (i32.shl (local.get $f) (i32.const 2)))) (local.get $valf)))');
    e('    (local.set $wf (i32.add (local.get $w) (i32.shl (local.get $valf) (i32.const 1))))');
    e('    (local.set $valf (i32.add (local.get $val) (i32.shl (local.get $valf) (i32.const 2))))');
  } else {
    // Groups before this one hold f · taps weights.
    e(`    (local.set $wf (i32.add (local.get $w) (i32.mul (i32.mul (local.get $f) (i32.mul (local.get $nA) (local.get $nB))) (i32.const ${weightBytes(kind)}))))`);
    e('    (local.set $cnt (local.get $nA))');
  }
  e(`    (local.set $yf (i32.add (local.get $y) (i32.mul (local.get $f) (local.get $yPlane))))`);
  e('    (local.set $ch (i32.const 0)) (local.set $col (i32.const 0))');
  e('    (block $cd (loop $cl');
  e('      (br_if $cd (i32.ge_u (local.get $ch) (local.get $nch)))');
  // Chunk ch: floor(vr / nch) vectors, one more for the first vr mod nch chunks.
  e('      (local.set $V (i32.add (i32.div_u (local.get $vr) (local.get $nch)) (i32.lt_u (local.get $ch) (i32.rem_u (local.get $vr) (local.get $nch)))))');
  e(`      (local.set $R (i32.div_u (i32.const ${CONV_ACCUMULATORS}) (i32.mul (local.get $Fb) (local.get $V))))`);
  e(`      (if (i32.gt_u (local.get $R) (i32.const ${CONV_MAX_ROWS})) (then (local.set $R (i32.const ${CONV_MAX_ROWS}))))`);
  // Valid lanes of the chunk's last vector (4 unless it ends the row).
  e('      (local.set $valid (i32.sub (local.get $ow) (i32.shl (i32.add (local.get $col) (i32.sub (local.get $V) (i32.const 1))) (i32.const 2))))');
  e('      (if (i32.gt_s (local.get $valid) (i32.const 4)) (then (local.set $valid (i32.const 4))))');
  e(kind === 'i8f'
    ? '      (local.set $mask (i8x16.gt_s (i8x16.splat (local.get $valid)) (v128.const i8x16 0 1 2 3 4 4 4 4 4 4 4 4 4 4 4 4)))'
    : '      (local.set $mask (i32x4.gt_s (i32x4.splat (local.get $valid)) (v128.const i32x4 0 1 2 3)))');
  e('      (local.set $oy (i32.const 0))');
  e('      (block $rd (loop $rl');
  e('        (br_if $rd (i32.ge_u (local.get $oy) (local.get $oh)))');
  e('        (local.set $r (select (local.get $R) (i32.sub (local.get $oh) (local.get $oy)) (i32.le_u (local.get $R) (i32.sub (local.get $oh) (local.get $oy)))))');
  e(`        (call $cnn_${kind} (i32.add (i32.mul (i32.add (i32.mul (i32.sub (local.get $fb) (i32.const 1)) (i32.const ${CONV_MAX_ROWS})) (i32.sub (local.get $r) (i32.const 1))) (i32.const ${CONV_MAX_VECTORS})) (i32.sub (local.get $V) (i32.const 1)))`);
  e('          (i32.add (i32.add (local.get $x) (i32.mul (local.get $oy) (local.get $xRow))) (i32.shl (local.get $col) (i32.const 4)))');
  e(`          (i32.add (local.get $yf) (i32.add (i32.mul (local.get $oy) (local.get $yRow)) (i32.mul (local.get $col) (i32.const ${vecBytes}))))`);
  e('          (local.get $wf) (local.get $valf) (local.get $tab) (local.get $cnt) (local.get $nB) (local.get $stepB) (local.get $xRow) (local.get $yRow) (local.get $yPlane)');
  e('          (local.get $mask) (i32.add (local.get $biasP) (i32.shl (local.get $f) (i32.const 2)))');
  e(`          (i32.add (local.get $scaleP) (i32.shl (local.get $f) (i32.const ${kind === 'i8f' ? 3 : 2}))) (local.get $sx) (local.get $relu) (local.get $zpOut) (local.get $lo))`);
  e('        (local.set $oy (i32.add (local.get $oy) (local.get $R))) (br $rl)))');
  e('      (local.set $col (i32.add (local.get $col) (local.get $V)))');
  e('      (local.set $ch (i32.add (local.get $ch) (i32.const 1))) (br $cl)))');
  e('    (local.set $f (i32.add (local.get $f) (local.get $fb))) (br $fl)))');
  e(')');
}

/** $t (i32) = roundHalfAway($v) (f64, see source.ts), clamped to ±1000 so that adding a zero point cannot wrap. */
const RHA = '(local.set $ra (f64.abs (local.get $v))) (local.set $rf (f64.floor (local.get $ra)))' +
  ' (local.set $t (i32.trunc_sat_f64_s (f64.copysign (f64.add (local.get $rf) (f64.convert_i32_u (f64.ge (f64.sub (local.get $ra) (local.get $rf)) (f64.const 0.5)))) (local.get $v))))' +
  ' (local.set $t (select (i32.const -1000) (select (i32.const 1000) (local.get $t) (i32.gt_s (local.get $t) (i32.const 1000))) (i32.lt_s (local.get $t) (i32.const -1000))))';
const clampTo = (lo: string, hi: string) =>
  `(select ${lo} (select ${hi} (local.get $t) (i32.gt_s (local.get $t) ${hi})) (i32.lt_s (local.get $t) ${lo}))`;

/**
 * Statements: $t (i32x4) = roundHalfAway of the float64 lanes $lo2 (lanes 0, 1) and $hi2 (2, 3),
 * saturated to int32 (NaN → 0): floor|v| + (|v| − floor|v| ≥ 0.5), with v's sign. Uses $t as
 * scratch for the magnitudes.
 */
function rhaLanes(e: (s: string) => void, pad: string): void {
  for (const h of ['$lo2', '$hi2']) {
    e(`${pad}(local.set $t (f64x2.floor (f64x2.abs (local.get ${h}))))`);
    e(`${pad}(local.set $t (f64x2.add (local.get $t) (v128.and (f64x2.ge (f64x2.sub (f64x2.abs (local.get ${h})) (local.get $t)) (v128.const f64x2 0.5 0.5)) (v128.const f64x2 1 1))))`);
    e(`${pad}(local.set ${h} (i32x4.trunc_sat_f64x2_s_zero (v128.bitselect (local.get ${h}) (local.get $t) (v128.const i64x2 0x8000000000000000 0x8000000000000000))))`);
  }
  e(`${pad}(local.set $t (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo2) (local.get $hi2)))`);
}

function helpers(e: (s: string) => void): void {
  // Zero-padded, column-phase-split copy of a CHW tensor (layout above) of 2^es-byte values.
  e('(func (export "cnn_pad") (param $src i32) (param $C i32) (param $H i32) (param $W i32) (param $dst i32) (param $p i32) (param $s i32) (param $Hp i32) (param $Wq i32) (param $es i32)');
  e('  (local $c i32) (local $yy i32) (local $xx i32) (local $col i32) (local $phaseB i32) (local $chanB i32) (local $row i32) (local $srow i32) (local $to i32) (local $from i32)');
  e('  (local.set $phaseB (i32.shl (i32.mul (local.get $Hp) (local.get $Wq)) (local.get $es)))');
  e('  (local.set $chanB (i32.mul (local.get $phaseB) (local.get $s)))');
  e('  (memory.fill (local.get $dst) (i32.const 0) (i32.mul (local.get $chanB) (local.get $C)))');
  e('  (local.set $srow (local.get $src))');
  e('  (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $c) (local.get $C)))');
  e('    (local.set $yy (i32.const 0))');
  e('    (block $yd (loop $yl (br_if $yd (i32.ge_u (local.get $yy) (local.get $H)))');
  e('      (local.set $row (i32.add (i32.add (local.get $dst) (i32.mul (local.get $c) (local.get $chanB))) (i32.shl (i32.mul (i32.add (local.get $yy) (local.get $p)) (local.get $Wq)) (local.get $es))))');
  e('      (if (i32.eq (local.get $s) (i32.const 1)) (then');
  e('        (memory.copy (i32.add (local.get $row) (i32.shl (local.get $p) (local.get $es))) (local.get $srow) (i32.shl (local.get $W) (local.get $es)))');
  e('      ) (else');
  // Column x + p goes to phase (x + p) mod s at index (x + p) div s: both stepped, no division per value.
  e('        (local.set $xx (i32.const 0))');
  e('        (local.set $col (i32.rem_u (local.get $p) (local.get $s)))');
  e('        (local.set $to (i32.add (i32.add (local.get $row) (i32.mul (local.get $col) (local.get $phaseB))) (i32.shl (i32.div_u (local.get $p) (local.get $s)) (local.get $es))))');
  e('        (local.set $from (local.get $srow))');
  e('        (block $xd (loop $xl (br_if $xd (i32.ge_u (local.get $xx) (local.get $W)))');
  e('          (if (i32.eq (local.get $es) (i32.const 2)) (then (i32.store (local.get $to) (i32.load (local.get $from)))) (else (i32.store16 (local.get $to) (i32.load16_u (local.get $from)))))');
  e('          (local.set $from (i32.add (local.get $from) (i32.shl (i32.const 1) (local.get $es))))');
  e('          (local.set $col (i32.add (local.get $col) (i32.const 1)))');
  e('          (if (i32.eq (local.get $col) (local.get $s)) (then');
  e('            (local.set $col (i32.const 0))');
  e('            (local.set $to (i32.add (i32.sub (local.get $to) (i32.mul (i32.sub (local.get $s) (i32.const 1)) (local.get $phaseB))) (i32.shl (i32.const 1) (local.get $es))))');
  e('          ) (else (local.set $to (i32.add (local.get $to) (local.get $phaseB)))))');
  e('          (local.set $xx (i32.add (local.get $xx) (i32.const 1))) (br $xl)))))');
  e('      (local.set $srow (i32.add (local.get $srow) (i32.shl (local.get $W) (local.get $es))))');
  e('      (local.set $yy (i32.add (local.get $yy) (i32.const 1))) (br $yl)))');
  e('    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $cl)))');
  e(')');

  // 16-bit integer inputs of an int8 conv, over n values (in whole groups: dst and src need
  // slack after n). mode 0 quantizes floats as convInt8Dynamic: clamp(roundHalfAway(x · inv),
  // −127, 127), inv = 127 / max|x|; mode 1 takes int8 codes and stores q − zp, so that the
  // padding (0) is a real 0.
  e('(func (export "cnn_quantize_q") (param $mode i32) (param $src i32) (param $n i32) (param $dst i32) (param $zp i32) (param $inv f64)');
  e('  (local $i i32) (local $v v128) (local $lo2 v128) (local $hi2 v128) (local $t v128) (local $z v128)');
  e('  (if (local.get $mode) (then');
  e('    (local.set $z (i16x8.splat (local.get $zp)))');
  e('    (block $d (loop $l (br_if $d (i32.ge_s (local.get $i) (local.get $n)))');
  e('      (local.set $v (v128.load (i32.add (local.get $src) (local.get $i))))');
  e('      (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (i16x8.sub (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $z)))');
  e('      (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (i16x8.sub (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $z)))');
  e('      (local.set $i (i32.add (local.get $i) (i32.const 16))) (br $l)))');
  e('    (return)))');
  e('  (block $d (loop $l (br_if $d (i32.ge_s (local.get $i) (local.get $n)))');
  e('    (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))');
  e('    (local.set $lo2 (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.splat (local.get $inv))))');
  e('    (local.set $hi2 (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (f64x2.splat (local.get $inv))))');
  rhaLanes(e, '    ');
  e('    (local.set $t (i32x4.min_s (i32x4.max_s (local.get $t) (v128.const i32x4 -127 -127 -127 -127)) (v128.const i32x4 127 127 127 127)))');
  e('    (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (i16x8.narrow_i32x4_s (local.get $t) (local.get $t)))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  e(')');

  // int8-full input codes (quantizeActivation): clamp(roundHalfAway(x / scale) + zp, −128, 127),
  // NaN → 0 (as an Int8Array store of NaN), over n values in groups of 4 (slack after both).
  e('(func (export "cnn_quantize_input") (param $src i32) (param $n i32) (param $scale f64) (param $zp i32) (param $dst i32)');
  e('  (local $i i32) (local $v v128) (local $lo2 v128) (local $hi2 v128) (local $t v128) (local $ok v128)');
  e('  (block $d (loop $l (br_if $d (i32.ge_s (local.get $i) (local.get $n)))');
  e('    (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))');
  e('    (local.set $ok (f32x4.eq (local.get $v) (local.get $v)))');
  e('    (local.set $lo2 (f64x2.div (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.splat (local.get $scale))))');
  e('    (local.set $hi2 (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))) (f64x2.splat (local.get $scale))))');
  rhaLanes(e, '    ');
  e('    (local.set $t (i32x4.add (i32x4.min_s (i32x4.max_s (local.get $t) (v128.const i32x4 -1000 -1000 -1000 -1000)) (v128.const i32x4 1000 1000 1000 1000)) (i32x4.splat (local.get $zp))))');
  e('    (local.set $t (v128.and (local.get $ok) (i32x4.min_s (i32x4.max_s (local.get $t) (v128.const i32x4 -128 -128 -128 -128)) (v128.const i32x4 127 127 127 127))))');
  e('    (local.set $t (i16x8.narrow_i32x4_s (local.get $t) (local.get $t)))');
  e('    (v128.store32_lane 0 (i32.add (local.get $dst) (local.get $i)) (i8x16.narrow_i16x8_s (local.get $t) (local.get $t)))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  e(')');

  // Tap pairs for dot_i16x8_s: 16-bit planes of planeElems values → 32-bit pairs.
  // mode 0: channel pairs, dst[c′][i] = (q[2c′][i], q[2c′ + 1][i]), planes = C / 2;
  // mode 1: column pairs, dst[c][i] = (q[c][i], q[c][i + 1]), planes = C.
  // Writes whole groups of 8: a plane's overrun is rewritten by the next plane (slack after the last).
  e('(func (export "cnn_pairs") (param $mode i32) (param $q i32) (param $planes i32) (param $planeElems i32) (param $dst i32)');
  e('  (local $c i32) (local $i i32) (local $a i32) (local $b i32) (local $d i32) (local $va v128) (local $vb v128) (local $qStep i32)');
  e('  (local.set $qStep (i32.shl (local.get $planeElems) (i32.add (i32.const 1) (i32.eqz (local.get $mode)))))');
  e('  (local.set $a (local.get $q))');
  e('  (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $c) (local.get $planes)))');
  e('    (local.set $b (select (i32.const 2) (i32.shl (local.get $planeElems) (i32.const 1)) (local.get $mode)))');
  e('    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $c) (local.get $planeElems)) (i32.const 2))))');
  e('    (local.set $i (i32.const 0))');
  e('    (block $id (loop $il (br_if $id (i32.ge_u (local.get $i) (local.get $planeElems)))');
  e('      (local.set $va (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 1)))))');
  e('      (local.set $vb (v128.load (i32.add (i32.add (local.get $a) (local.get $b)) (i32.shl (local.get $i) (i32.const 1)))))');
  e('      (v128.store (local.get $d) (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $va) (local.get $vb)))');
  e('      (v128.store offset=16 (local.get $d) (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $va) (local.get $vb)))');
  e('      (local.set $d (i32.add (local.get $d) (i32.const 32)))');
  e('      (local.set $i (i32.add (local.get $i) (i32.const 8))) (br $il)))');
  e('    (local.set $a (i32.add (local.get $a) (local.get $qStep)))');
  e('    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $cl)))');
  e(')');

  // max |x| over n floats (NaN ignored, as `if (a > m) m = a` from m = 0).
  e('(func (export "cnn_absmax") (param $x i32) (param $n i32) (result f64)');
  e('  (local $m v128) (local $i i32) (local $s f32) (local $a f32)');
  e('  (block $d (loop $l (br_if $d (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))');
  e('    (local.set $m (f32x4.pmax (local.get $m) (f32x4.abs (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  e('  (local.set $s (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m))) (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))');
  e('  (block $d2 (loop $l2 (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))');
  e('    (local.set $a (f32.abs (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))');
  e('    (if (f32.gt (local.get $a) (local.get $s)) (then (local.set $s (local.get $a))))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l2)))');
  e('  (f64.promote_f32 (local.get $s)))');

  // Max pooling without padding, as arch-kernels.ts: m = −∞, then m = v where v > m, window
  // rows then columns. 2×2 windows of stride 2 run 4 outputs per step in that same order.
  for (const t of ['f32', 'i8'] as const) {
    const size = t === 'f32' ? 2 : 0;
    const load = (a: string) => (t === 'f32' ? `(f32.load ${a})` : `(i32.load8_s ${a})`);
    const vt = t === 'f32' ? 'f32' : 'i32';
    const gt = t === 'f32' ? 'f32.gt' : 'i32.gt_s';
    const init = t === 'f32' ? '(f32.const -inf)' : '(i32.const -129)';
    const storeOp = t === 'f32' ? 'f32.store' : 'i32.store8';
    e(`(func (export "cnn_maxpool_${t}") (param $x i32) (param $C i32) (param $H i32) (param $W i32) (param $size i32) (param $stride i32) (param $oh i32) (param $ow i32) (param $y i32)`);
    e(`  (local $c i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32) (local $m ${vt}) (local $v ${vt}) (local $plane i32) (local $r0 i32) (local $r1 i32) (local $out i32)`);
    e('  (local $a v128) (local $b v128) (local $mv v128)');
    e('  (local.set $out (local.get $y))');
    e('  (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $c) (local.get $C)))');
    e(`    (local.set $plane (i32.add (local.get $x) (i32.shl (i32.mul (local.get $c) (i32.mul (local.get $H) (local.get $W))) (i32.const ${size}))))`);
    e('    (local.set $oy (i32.const 0))');
    e('    (block $yd (loop $yl (br_if $yd (i32.ge_u (local.get $oy) (local.get $oh)))');
    e('      (local.set $ox (i32.const 0))');
    if (t === 'i8') {
      // 8 outputs per step: the max of each 2 × 2 window of codes (order does not matter for integers).
      e('      (if (i32.and (i32.eq (local.get $size) (i32.const 2)) (i32.eq (local.get $stride) (i32.const 2))) (then');
      e('        (local.set $r0 (i32.add (local.get $plane) (i32.mul (i32.shl (local.get $oy) (i32.const 1)) (local.get $W))))');
      e('        (local.set $r1 (i32.add (local.get $r0) (local.get $W)))');
      e('        (block $vd (loop $vl (br_if $vd (i32.gt_u (i32.add (local.get $ox) (i32.const 8)) (local.get $ow)))');
      e('          (local.set $a (i8x16.max_s (v128.load (i32.add (local.get $r0) (i32.shl (local.get $ox) (i32.const 1)))) (v128.load (i32.add (local.get $r1) (i32.shl (local.get $ox) (i32.const 1))))))');
      e('          (v128.store64_lane 0 (local.get $out) (i8x16.max_s (i8x16.shuffle 0 2 4 6 8 10 12 14 0 2 4 6 8 10 12 14 (local.get $a) (local.get $a)) (i8x16.shuffle 1 3 5 7 9 11 13 15 1 3 5 7 9 11 13 15 (local.get $a) (local.get $a))))');
      e('          (local.set $out (i32.add (local.get $out) (i32.const 8)))');
      e('          (local.set $ox (i32.add (local.get $ox) (i32.const 8))) (br $vl)))))');
    }
    if (t === 'f32') {
      e('      (if (i32.and (i32.eq (local.get $size) (i32.const 2)) (i32.eq (local.get $stride) (i32.const 2))) (then');
      e('        (local.set $r0 (i32.add (local.get $plane) (i32.shl (i32.mul (i32.shl (local.get $oy) (i32.const 1)) (local.get $W)) (i32.const 2))))');
      e('        (local.set $r1 (i32.add (local.get $r0) (i32.shl (local.get $W) (i32.const 2))))');
      e('        (block $vd (loop $vl (br_if $vd (i32.gt_u (i32.add (local.get $ox) (i32.const 4)) (local.get $ow)))');
      e('          (local.set $mv (v128.const f32x4 -inf -inf -inf -inf))');
      for (const r of ['$r0', '$r1']) {
        e(`          (local.set $a (v128.load (i32.add (local.get ${r}) (i32.shl (local.get $ox) (i32.const 3)))))`);
        e(`          (local.set $b (v128.load offset=16 (i32.add (local.get ${r}) (i32.shl (local.get $ox) (i32.const 3)))))`);
        e('          (local.set $mv (f32x4.pmax (local.get $mv) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))))');
        e('          (local.set $mv (f32x4.pmax (local.get $mv) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))');
      }
      e('          (v128.store (local.get $out) (local.get $mv))');
      e('          (local.set $out (i32.add (local.get $out) (i32.const 16)))');
      e('          (local.set $ox (i32.add (local.get $ox) (i32.const 4))) (br $vl)))))');
    }
    e('      (block $xd (loop $xl (br_if $xd (i32.ge_u (local.get $ox) (local.get $ow)))');
    e(`        (local.set $m ${init}) (local.set $ky (i32.const 0))`);
    e('        (block $kyd (loop $kyl (br_if $kyd (i32.ge_u (local.get $ky) (local.get $size)))');
    e('          (local.set $kx (i32.const 0))');
    e('          (block $kxd (loop $kxl (br_if $kxd (i32.ge_u (local.get $kx) (local.get $size)))');
    e(`            (local.set $v ${load(`(i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $stride)) (local.get $ky)) (local.get $W)) (i32.add (i32.mul (local.get $ox) (local.get $stride)) (local.get $kx))) (i32.const ${size})))`)})`);
    e(`            (if (${gt} (local.get $v) (local.get $m)) (then (local.set $m (local.get $v))))`);
    e('            (local.set $kx (i32.add (local.get $kx) (i32.const 1))) (br $kxl)))');
    e('          (local.set $ky (i32.add (local.get $ky) (i32.const 1))) (br $kyl)))');
    e(`        (${storeOp} (local.get $out) (local.get $m))`);
    e(`        (local.set $out (i32.add (local.get $out) (i32.const ${t === 'f32' ? 4 : 1})))`);
    e('        (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $xl)))');
    e('      (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $yl)))');
    e('    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $cl)))');
    e(')');
  }

  // y = a + b in float32, then max(+0, ·) when asked (as addFloat: relu && !(v > 0) ? 0 : v).
  e('(func (export "cnn_add_f32") (param $a i32) (param $b i32) (param $n i32) (param $relu i32) (param $y i32)');
  e('  (local $i i32) (local $v v128) (local $s f32)');
  e('  (block $d (loop $l (br_if $d (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))');
  e('    (local.set $v (f32x4.add (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))');
  e('    (if (local.get $relu) (then (local.set $v (f32x4.pmax (global.get $cnn_zero) (local.get $v)))))');
  e('    (v128.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  e('  (block $d2 (loop $l2 (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))');
  e('    (local.set $s (f32.add (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))');
  e('    (if (i32.and (local.get $relu) (i32.eqz (f32.gt (local.get $s) (f32.const 0)))) (then (local.set $s (f32.const 0))))');
  e('    (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l2)))');
  e(')');

  // Residual add on codes (addInt8): clamp(roundHalfAway((qa − zpA)·ma + (qb − zpB)·mb) + zpOut, lo, 127),
  // float64 lanes, four codes per step (slack after the three tensors).
  e('(func (export "cnn_add_i8") (param $a i32) (param $zpA i32) (param $ma f64) (param $b i32) (param $zpB i32) (param $mb f64) (param $n i32) (param $zpOut i32) (param $lo i32) (param $y i32)');
  e('  (local $i i32) (local $da v128) (local $db v128) (local $lo2 v128) (local $hi2 v128) (local $t v128)');
  e('  (block $d (loop $l (br_if $d (i32.ge_s (local.get $i) (local.get $n)))');
  e('    (local.set $da (i32x4.sub (i32x4.extend_low_i16x8_s (i16x8.extend_low_i8x16_s (v128.load32_zero (i32.add (local.get $a) (local.get $i))))) (i32x4.splat (local.get $zpA))))');
  e('    (local.set $db (i32x4.sub (i32x4.extend_low_i16x8_s (i16x8.extend_low_i8x16_s (v128.load32_zero (i32.add (local.get $b) (local.get $i))))) (i32x4.splat (local.get $zpB))))');
  e('    (local.set $lo2 (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $da)) (f64x2.splat (local.get $ma))) (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $db)) (f64x2.splat (local.get $mb)))))');
  e('    (local.set $da (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $da) (local.get $da)))');
  e('    (local.set $db (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $db) (local.get $db)))');
  e('    (local.set $hi2 (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $da)) (f64x2.splat (local.get $ma))) (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $db)) (f64x2.splat (local.get $mb)))))');
  rhaLanes(e, '    ');
  e('    (local.set $t (i32x4.add (i32x4.min_s (i32x4.max_s (local.get $t) (v128.const i32x4 -1000 -1000 -1000 -1000)) (v128.const i32x4 1000 1000 1000 1000)) (i32x4.splat (local.get $zpOut))))');
  e('    (local.set $t (i32x4.min_s (i32x4.max_s (local.get $t) (i32x4.splat (local.get $lo))) (v128.const i32x4 127 127 127 127)))');
  e('    (local.set $t (i16x8.narrow_i32x4_s (local.get $t) (local.get $t)))');
  e('    (v128.store32_lane 0 (i32.add (local.get $y) (local.get $i)) (i8x16.narrow_i16x8_s (local.get $t) (local.get $t)))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 4))) (br $l)))');
  e(')');

  // Global average pooling [C][hw] → [C]: float64 sum in position order / hw, stored as float32.
  e('(func (export "cnn_gap_f32") (param $x i32) (param $hw i32) (param $C i32) (param $y i32)');
  e('  (local $c i32) (local $i i32) (local $s f64)');
  e('  (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $c) (local.get $C)))');
  e('    (local.set $s (f64.const 0)) (local.set $i (i32.const 0))');
  e('    (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $hw)))');
  e('      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $x)))))');
  e('      (local.set $x (i32.add (local.get $x) (i32.const 4)))');
  e('      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))');
  e('    (f32.store (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (f64.div (local.get $s) (f64.convert_i32_u (local.get $hw)))))');
  e('    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $cl)))');
  e(')');

  // On codes (gapInt8): clamp(roundHalfAway(Σ (q − zpIn) · mult) + zpOut, −128, 127).
  e('(func (export "cnn_gap_i8") (param $x i32) (param $zpIn i32) (param $hw i32) (param $C i32) (param $mult f64) (param $zpOut i32) (param $y i32)');
  e('  (local $c i32) (local $i i32) (local $sum i32) (local $t i32) (local $v f64) (local $ra f64) (local $rf f64)');
  e('  (block $cd (loop $cl (br_if $cd (i32.ge_u (local.get $c) (local.get $C)))');
  e('    (local.set $sum (i32.const 0)) (local.set $i (i32.const 0))');
  e('    (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $hw)))');
  e('      (local.set $sum (i32.add (local.get $sum) (i32.sub (i32.load8_s (local.get $x)) (local.get $zpIn))))');
  e('      (local.set $x (i32.add (local.get $x) (i32.const 1)))');
  e('      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))');
  e(`    (local.set $v (f64.mul (f64.convert_i32_s (local.get $sum)) (local.get $mult))) ${RHA} (local.set $t (i32.add (local.get $t) (local.get $zpOut)))`);
  e(`    (i32.store8 (i32.add (local.get $y) (local.get $c)) ${clampTo('(i32.const -128)', '(i32.const 127)')})`);
  e('    (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $cl)))');
  e(')');
}

/**
 * A sparse dense layer on one image (a CNN's classifier layers): CSR by input row, with column
 * byte offsets (col · 4, so outDim ≤ 16384). y starts as the bias; for each nonzero input, in
 * ascending order, y[col] += x_i · value — per output the dense kernel's float32 sum order, so
 * the results are bit for bit those of row_f32 on the same weights. Four entries per step.
 */
function sparseRow(e: (s: string) => void): void {
  e('(func (export "cnn_sparse_row") (param $x i32) (param $inDim i32) (param $outDim i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $b i32) (param $y i32) (param $relu i32)');
  e('  (local $i i32) (local $k i32) (local $end i32) (local $end4 i32) (local $xi f32) (local $p i32) (local $o i32) (local $vp i32)');
  e('  (memory.copy (local.get $y) (local.get $b) (i32.shl (local.get $outDim) (i32.const 2)))');
  e('  (block $d1 (loop $l1');
  e('    (br_if $d1 (i32.ge_u (local.get $i) (local.get $inDim)))');
  e('    (local.set $xi (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))');
  e('    (if (f32.ne (local.get $xi) (f32.const 0)) (then');
  e('      (local.set $k (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))');
  e('      (local.set $end (i32.add (local.get $col) (i32.shl (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 1))))');
  e('      (local.set $vp (i32.add (local.get $val) (i32.shl (local.get $k) (i32.const 2))))');
  e('      (local.set $k (i32.add (local.get $col) (i32.shl (local.get $k) (i32.const 1))))'); // k walks the column offsets
  e('      (local.set $end4 (i32.sub (local.get $end) (i32.const 6)))');
  e('      (block $d2 (loop $l2');
  e('        (br_if $d2 (i32.ge_s (local.get $k) (local.get $end4)))');
  for (let u = 0; u < 4; u++) {
    e(`        (local.set $p (i32.add (local.get $y) (i32.load16_u offset=${2 * u} (local.get $k))))`);
    e(`        (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $xi) (f32.load offset=${4 * u} (local.get $vp)))))`);
  }
  e('        (local.set $k (i32.add (local.get $k) (i32.const 8))) (local.set $vp (i32.add (local.get $vp) (i32.const 16))) (br $l2)))');
  e('      (block $d3 (loop $l3');
  e('        (br_if $d3 (i32.ge_u (local.get $k) (local.get $end)))');
  e('        (local.set $p (i32.add (local.get $y) (i32.load16_u (local.get $k))))');
  e('        (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $xi) (f32.load (local.get $vp)))))');
  e('        (local.set $k (i32.add (local.get $k) (i32.const 2))) (local.set $vp (i32.add (local.get $vp) (i32.const 4))) (br $l3)))))');
  e('    (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l1)))');
  e('  (if (local.get $relu) (then');
  e('    (block $d4 (loop $l4');
  e('      (br_if $d4 (i32.gt_u (i32.add (local.get $o) (i32.const 4)) (local.get $outDim)))');
  e('      (local.set $p (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))');
  e('      (v128.store (local.get $p) (f32x4.pmax (global.get $cnn_zero) (v128.load (local.get $p))))');
  e('      (local.set $o (i32.add (local.get $o) (i32.const 4))) (br $l4)))');
  e('    (block $d5 (loop $l5');
  e('      (br_if $d5 (i32.ge_u (local.get $o) (local.get $outDim)))');
  e('      (local.set $p (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))');
  e('      (if (i32.eqz (f32.gt (f32.load (local.get $p)) (f32.const 0))) (then (f32.store (local.get $p) (f32.const 0))))');
  e('      (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $l5)))))');
  e(')');
}

/** The module fields of the conv kernels, to be placed inside kernelsWat()'s module. */
export function convKernelsWat(): string {
  const lines: string[] = [];
  const e = (s: string) => lines.push(s);
  e('(global $cnn_zero v128 (v128.const f32x4 0 0 0 0))');
  for (const kind of KINDS) {
    for (const [Fb, R, V] of shapes(kind)) block(kind, Fb, R, V, e);
    dispatcher(kind, e);
    convDriver(kind, e);
  }
  helpers(e);
  sparseRow(e);
  return lines.join('\n');
}
