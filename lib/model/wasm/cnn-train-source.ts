/**
 * WebAssembly text of the CNN training kernels that the MLP's GEMM (mlp-train-source.ts mlp_gemm)
 * does not cover, spliced into the module by source.ts's kernelsWat(); lib/model/wasm/cnn-train.ts
 * drives them. Written by hand for the MLP kernels' reasons: no maintained library offers wasm
 * SIMD convolution gradients, and the tfjs wasm engine has no Conv2DBackpropFilter.
 *
 * Every product of a stride-1 convolution is mlp_gemm over lists of a nonzero operand; these
 * kernels build the lists and move values between layouts. Activations are HWC per image, a
 * conv's input zero-padded ([B, hp, wp, c], "xp"), its output [B·oh·ow, Fpad] (filters rounded up
 * to 4, the padding columns 0). With K = k·k·c patch entries t = (ky·k + kx)·c + ci (the HWIO
 * kernel's rows) and the parameters [K + 1, Fpad] (bias as row K):
 * - forward   Z = [patches 1] · [W; b]: one list per output pixel of its patch's nonzero inputs
 *   (cnn_patch_lists), ReLU in the GEMM's epilogue;
 * - weights   dWᵀ[f, ky, ·] = Σ_pixels dz[pixel, f] · xp[pixel's corner + ky rows, k·c values]: one
 *   list per filter of its nonzero gradients with their pixel's corner (cnn_dz_lists), the right
 *   operand the padded input itself (a patch's row ky is k·c contiguous values), so no patch
 *   matrix is built and the gradients that max pooling zeroed (¾ of them) cost nothing;
 * - inputs    dpatches = dZ · Wᵀ (row lists of dZ, transposed weights), summed back into the
 *   padded input's layout by cnn_col2im.
 * Max pooling records each output's argmax (the first maximum in row-major window order, as
 * tfjs's gradient picks it), and its backward pass routes each gradient there, only through
 * windows whose maximum is positive: the pooled conv's ReLU would zero the rest.
 */

export function cnnTrainWat(): string {
  const out: string[] = [];
  const emit = (s: string) => out.push(s);
  // One list entry (offset, value) at $p, advancing $p past it only when the value is nonzero.
  const entry = (off: string, v: string, p = '$p') => [
    `(i32.store (local.get ${p}) ${off})`,
    `(f32.store offset=4 (local.get ${p}) ${v})`,
    `(local.set ${p} (i32.add (local.get ${p}) (i32.shl (f32.ne ${v} (f32.const 0)) (i32.const 3))))`,
  ];

  /*
   * Forward lists of images [0, n) of xp: for output pixel j = (b, oy, ox), list j (at
   * lists + j·listStride) holds (t·rowBytes, value) for each nonzero patch entry t in ascending
   * order, then (K·rowBytes, 1) for the bias row; counts[j] its length. A patch row (ky) is the
   * kc = k·c contiguous values from the pixel's corner + ky rows; four zeros at a time are skipped.
   */
  emit('(func (export "cnn_patch_lists") (param $xp i32) (param $n i32) (param $oh i32) (param $ow i32) (param $k i32) (param $c i32)');
  emit('  (param $wpBytes i32) (param $imgBytes i32) (param $rowBytes i32) (param $lists i32) (param $listStride i32) (param $counts i32)');
  emit('  (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $u i32) (local $kc i32) (local $kc4 i32)');
  emit('  (local $img i32) (local $corner i32) (local $src i32) (local $off i32) (local $start i32) (local $p i32) (local $cnt i32) (local $v f32)');
  emit('  (local.set $kc (i32.mul (local.get $k) (local.get $c)))');
  emit('  (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))');
  emit('  (local.set $start (local.get $lists)) (local.set $cnt (local.get $counts)) (local.set $img (local.get $xp))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('    (local.set $oy (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('      (local.set $ox (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $ox) (local.get $ow)))');
  emit('        (local.set $corner (i32.add (i32.add (local.get $img) (i32.mul (local.get $oy) (local.get $wpBytes))) (i32.shl (i32.mul (local.get $ox) (local.get $c)) (i32.const 2))))');
  emit('        (local.set $p (local.get $start)) (local.set $off (i32.const 0)) (local.set $ky (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $ky) (local.get $k)))');
  emit('          (local.set $src (i32.add (local.get $corner) (i32.mul (local.get $ky) (local.get $wpBytes))))');
  emit('          (local.set $u (i32.const 0))');
  emit('          (block $d4 (loop $l4');
  emit('            (br_if $d4 (i32.ge_u (local.get $u) (local.get $kc4)))');
  emit('            (if (v128.any_true (v128.load (local.get $src))) (then');
  for (let t = 0; t < 4; t++) {
    emit(`              (local.set $v (f32.load offset=${4 * t} (local.get $src)))`);
    for (const s of entry(`(i32.add (local.get $off) (i32.mul (i32.const ${t}) (local.get $rowBytes)))`, '(local.get $v)')) emit(`              ${s}`);
  }
  emit('            ))');
  emit('            (local.set $src (i32.add (local.get $src) (i32.const 16)))');
  emit('            (local.set $off (i32.add (local.get $off) (i32.shl (local.get $rowBytes) (i32.const 2))))');
  emit('            (local.set $u (i32.add (local.get $u) (i32.const 4))) (br $l4)))');
  emit('          (block $d5 (loop $l5');
  emit('            (br_if $d5 (i32.ge_u (local.get $u) (local.get $kc)))');
  emit('            (local.set $v (f32.load (local.get $src)))');
  for (const s of entry('(local.get $off)', '(local.get $v)')) emit(`            ${s}`);
  emit('            (local.set $src (i32.add (local.get $src) (i32.const 4)))');
  emit('            (local.set $off (i32.add (local.get $off) (local.get $rowBytes)))');
  emit('            (local.set $u (i32.add (local.get $u) (i32.const 1))) (br $l5)))');
  emit('          (local.set $ky (i32.add (local.get $ky) (i32.const 1))) (br $l3)))');
  // $off is now K·rowBytes: the bias row.
  emit('        (i32.store (local.get $p) (local.get $off))');
  emit('        (f32.store offset=4 (local.get $p) (f32.const 1))');
  emit('        (i32.store (local.get $cnt) (i32.add (i32.shr_u (i32.sub (local.get $p) (local.get $start)) (i32.const 3)) (i32.const 1)))');
  emit('        (local.set $cnt (i32.add (local.get $cnt) (i32.const 4)))');
  emit('        (local.set $start (i32.add (local.get $start) (local.get $listStride)))');
  emit('        (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $l2)))');
  emit('      (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $l1)))');
  emit('    (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * Weight-gradient lists of dz [n·oh·ow, Fpad] (Fpad a multiple of 4): list f (at lists +
   * f·listStride) holds (corner byte offset of pixel j in xp, dz[j, f]) for each nonzero dz[j, f]
   * in pixel order; counts[f] its length. Four columns at a time, a row's 16 bytes skipped when zero.
   */
  emit('(func (export "cnn_dz_lists") (param $dz i32) (param $n i32) (param $oh i32) (param $ow i32) (param $Fpad i32) (param $pixBytes i32)');
  emit('  (param $wpBytes i32) (param $imgBytes i32) (param $lists i32) (param $listStride i32) (param $counts i32)');
  emit('  (local $g i32) (local $b i32) (local $oy i32) (local $ox i32) (local $q i32) (local $img i32) (local $row i32) (local $off i32) (local $v f32) (local $zStride i32)');
  emit(`  ${[0, 1, 2, 3].map((t) => `(local $p${t} i32) (local $s${t} i32)`).join(' ')}`);
  emit('  (local.set $zStride (i32.shl (local.get $Fpad) (i32.const 2)))');
  emit('  (block $dg (loop $lg');
  emit('    (br_if $dg (i32.ge_u (local.get $g) (local.get $Fpad)))');
  for (let t = 0; t < 4; t++) {
    emit(`    (local.set $s${t} (i32.add (local.get $lists) (i32.mul (i32.add (local.get $g) (i32.const ${t})) (local.get $listStride))))`);
    emit(`    (local.set $p${t} (local.get $s${t}))`);
  }
  emit('    (local.set $q (i32.add (local.get $dz) (i32.shl (local.get $g) (i32.const 2))))');
  emit('    (local.set $b (i32.const 0)) (local.set $img (i32.const 0))');
  emit('    (block $d0 (loop $l0');
  emit('      (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('      (local.set $oy (i32.const 0)) (local.set $row (local.get $img))');
  emit('      (block $d1 (loop $l1');
  emit('        (br_if $d1 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('        (local.set $ox (i32.const 0)) (local.set $off (local.get $row))');
  emit('        (block $d2 (loop $l2');
  emit('          (br_if $d2 (i32.ge_u (local.get $ox) (local.get $ow)))');
  emit('          (if (v128.any_true (v128.load (local.get $q))) (then');
  for (let t = 0; t < 4; t++) {
    emit(`            (local.set $v (f32.load offset=${4 * t} (local.get $q)))`);
    for (const s of entry('(local.get $off)', '(local.get $v)', `$p${t}`)) emit(`            ${s}`);
  }
  emit('          ))');
  emit('          (local.set $q (i32.add (local.get $q) (local.get $zStride)))');
  emit('          (local.set $off (i32.add (local.get $off) (local.get $pixBytes)))');
  emit('          (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $l2)))');
  emit('        (local.set $row (i32.add (local.get $row) (local.get $wpBytes)))');
  emit('        (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $l1)))');
  emit('      (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('      (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  for (let t = 0; t < 4; t++) {
    emit(`    (i32.store (i32.add (local.get $counts) (i32.shl (i32.add (local.get $g) (i32.const ${t})) (i32.const 2))) (i32.shr_u (i32.sub (local.get $p${t}) (local.get $s${t})) (i32.const 3)))`);
  }
  emit('    (local.set $g (i32.add (local.get $g) (i32.const 4))) (br $lg)))');
  emit(')');

  /*
   * Max pooling (valid windows size × size, stride s) of y (F channels of images [0, n), a pixel
   * yPix bytes, a row yRow, an image yImg) into out (F channels exact: a pixel F·4 bytes, a row
   * outRow, an image outImg), and arg[o] = the byte offset from y of output o's first maximum in
   * row-major window order (outputs in (b, py, px, f) order). Comparisons are ">" against the
   * running maximum, so ties keep the first.
   */
  emit('(func (export "cnn_pool_fwd") (param $y i32) (param $n i32) (param $ph i32) (param $pw i32) (param $F i32) (param $size i32) (param $s i32)');
  emit('  (param $yPix i32) (param $yRow i32) (param $yImg i32) (param $out i32) (param $outRow i32) (param $outImg i32) (param $arg i32)');
  emit('  (local $b i32) (local $py i32) (local $px i32) (local $f i32) (local $wy i32) (local $wx i32) (local $base i32) (local $a i32) (local $best f32) (local $bi i32) (local $v f32) (local $o i32) (local $gt i32)');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('    (local.set $py (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $py) (local.get $ph)))');
  emit('      (local.set $px (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $px) (local.get $pw)))');
  emit('        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $b) (local.get $outImg)))');
  emit('          (i32.add (i32.mul (local.get $py) (local.get $outRow)) (i32.shl (i32.mul (local.get $px) (local.get $F)) (i32.const 2)))))');
  emit('        (local.set $f (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $f) (local.get $F)))');
  emit('          (local.set $base (i32.add (i32.add (i32.mul (local.get $b) (local.get $yImg)) (i32.shl (local.get $f) (i32.const 2)))');
  emit('            (i32.add (i32.mul (i32.mul (local.get $py) (local.get $s)) (local.get $yRow)) (i32.mul (i32.mul (local.get $px) (local.get $s)) (local.get $yPix)))))');
  emit('          (local.set $best (f32.const -inf)) (local.set $bi (local.get $base))');
  emit('          (local.set $wy (i32.const 0))');
  emit('          (block $d4 (loop $l4');
  emit('            (br_if $d4 (i32.ge_u (local.get $wy) (local.get $size)))');
  emit('            (local.set $wx (i32.const 0))');
  emit('            (block $d5 (loop $l5');
  emit('              (br_if $d5 (i32.ge_u (local.get $wx) (local.get $size)))');
  emit('              (local.set $a (i32.add (local.get $base) (i32.add (i32.mul (local.get $wy) (local.get $yRow)) (i32.mul (local.get $wx) (local.get $yPix)))))');
  emit('              (local.set $v (f32.load (i32.add (local.get $y) (local.get $a))))');
  emit('              (local.set $gt (f32.gt (local.get $v) (local.get $best)))');
  emit('              (local.set $best (select (local.get $v) (local.get $best) (local.get $gt)))');
  emit('              (local.set $bi (select (local.get $a) (local.get $bi) (local.get $gt)))');
  emit('              (local.set $wx (i32.add (local.get $wx) (i32.const 1))) (br $l5)))');
  emit('            (local.set $wy (i32.add (local.get $wy) (i32.const 1))) (br $l4)))');
  emit('          (f32.store (local.get $o) (local.get $best))');
  emit('          (i32.store (local.get $arg) (local.get $bi))');
  emit('          (local.set $o (i32.add (local.get $o) (i32.const 4))) (local.set $arg (i32.add (local.get $arg) (i32.const 4)))');
  emit('          (local.set $f (i32.add (local.get $f) (i32.const 1))) (br $l3)))');
  emit('        (local.set $px (i32.add (local.get $px) (i32.const 1))) (br $l2)))');
  emit('      (local.set $py (i32.add (local.get $py) (i32.const 1))) (br $l1)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * The max pool's backward pass: for each output o (the layout of cnn_pool_fwd's out, also that
   * of the gradient dout) whose value is > 0, dy[arg[o]] += dout[o]. dy (y's layout) must be
   * zeroed by the caller.
   */
  emit('(func (export "cnn_pool_bwd") (param $out i32) (param $dout i32) (param $n i32) (param $ph i32) (param $pw i32) (param $F i32)');
  emit('  (param $outRow i32) (param $outImg i32) (param $arg i32) (param $dy i32)');
  emit('  (local $b i32) (local $py i32) (local $px i32) (local $f i32) (local $o i32) (local $d i32) (local $a i32)');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('    (local.set $py (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $py) (local.get $ph)))');
  emit('      (local.set $px (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $px) (local.get $pw)))');
  emit('        (local.set $o (i32.add (i32.mul (local.get $b) (local.get $outImg))');
  emit('          (i32.add (i32.mul (local.get $py) (local.get $outRow)) (i32.shl (i32.mul (local.get $px) (local.get $F)) (i32.const 2)))))');
  emit('        (local.set $f (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $f) (local.get $F)))');
  emit('          (if (f32.gt (f32.load (i32.add (local.get $out) (local.get $o))) (f32.const 0)) (then');
  emit('            (local.set $a (i32.add (local.get $dy) (i32.load (local.get $arg))))');
  emit('            (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32.load (i32.add (local.get $dout) (local.get $o)))))))');
  emit('          (local.set $o (i32.add (local.get $o) (i32.const 4))) (local.set $arg (i32.add (local.get $arg) (i32.const 4)))');
  emit('          (local.set $f (i32.add (local.get $f) (i32.const 1))) (br $l3)))');
  emit('        (local.set $px (i32.add (local.get $px) (i32.const 1))) (br $l2)))');
  emit('      (local.set $py (i32.add (local.get $py) (i32.const 1))) (br $l1)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * The adjoint of the patch gather: dxp[corner(j) + ky rows + u] += dcols[j, ky·kc + u] for output
   * pixels j of images [0, n), dxp padded as xp and zeroed by the caller. Four values at a time.
   */
  emit('(func (export "cnn_col2im") (param $dcols i32) (param $colStride i32) (param $n i32) (param $oh i32) (param $ow i32) (param $k i32) (param $c i32)');
  emit('  (param $wpBytes i32) (param $imgBytes i32) (param $dxp i32)');
  emit('  (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $u i32) (local $kc i32) (local $kc4 i32)');
  emit('  (local $img i32) (local $corner i32) (local $dst i32) (local $src i32) (local $row i32)');
  emit('  (local.set $kc (i32.mul (local.get $k) (local.get $c)))');
  emit('  (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))');
  emit('  (local.set $img (local.get $dxp)) (local.set $row (local.get $dcols))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('    (local.set $oy (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('      (local.set $ox (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $ox) (local.get $ow)))');
  emit('        (local.set $corner (i32.add (i32.add (local.get $img) (i32.mul (local.get $oy) (local.get $wpBytes))) (i32.shl (i32.mul (local.get $ox) (local.get $c)) (i32.const 2))))');
  emit('        (local.set $src (local.get $row)) (local.set $ky (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $ky) (local.get $k)))');
  emit('          (local.set $dst (i32.add (local.get $corner) (i32.mul (local.get $ky) (local.get $wpBytes))))');
  emit('          (local.set $u (i32.const 0))');
  emit('          (block $d4 (loop $l4');
  emit('            (br_if $d4 (i32.ge_u (local.get $u) (local.get $kc4)))');
  emit('            (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))');
  emit('            (local.set $dst (i32.add (local.get $dst) (i32.const 16))) (local.set $src (i32.add (local.get $src) (i32.const 16)))');
  emit('            (local.set $u (i32.add (local.get $u) (i32.const 4))) (br $l4)))');
  emit('          (block $d5 (loop $l5');
  emit('            (br_if $d5 (i32.ge_u (local.get $u) (local.get $kc)))');
  emit('            (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))');
  emit('            (local.set $dst (i32.add (local.get $dst) (i32.const 4))) (local.set $src (i32.add (local.get $src) (i32.const 4)))');
  emit('            (local.set $u (i32.add (local.get $u) (i32.const 1))) (br $l5)))');
  emit('          (local.set $ky (i32.add (local.get $ky) (i32.const 1))) (br $l3)))');
  emit('        (local.set $row (i32.add (local.get $row) (local.get $colStride)))');
  emit('        (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $l2)))');
  emit('      (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $l1)))');
  emit('    (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  return out.join('\n');
}
