/**
 * WebAssembly text of the CNN training kernels that the MLP's GEMM (mlp-train-source.ts mlp_gemm)
 * does not cover, spliced into the module by source.ts's kernelsWat(); lib/model/wasm/cnn-train.ts
 * drives them. Written by hand for the MLP kernels' reasons: no maintained library offers wasm
 * SIMD convolution gradients, the tfjs wasm engine has no Conv2DBackpropFilter (its conv
 * gradients fall back to slow generic ops), and of its ops only a plain matMul is fast.
 *
 * The forward product of a stride-1 convolution is a direct conv (cnn_conv_fwd); its gradient
 * products are mlp_gemm over lists of a nonzero operand, which these kernels build, and they move
 * values between layouts. Activations are HWC per image, a
 * conv's input zero-padded ([B, hp, wp, c], "xp"), its output [B·oh·ow, Fpad] (filters rounded up
 * to 4, the padding columns 0). With K = k·k·c patch entries t = (ky·k + kx)·c + ci (the HWIO
 * kernel's rows) and the parameters [K + 1, Fpad] (bias as row K):
 * - forward   Z = [patches 1] · [W; b], ReLU'd: cnn_conv_fwd reads the patches in place;
 * - weights   dWᵀ[f, ky, ·] = Σ_pixels dz[pixel, f] · xp[pixel's corner + ky rows, k·c values]: one
 *   list per filter of its nonzero gradients with their pixel's corner, made by the max pool's
 *   backward pass (cnn_pool_bwd) in pool output order, the right operand the padded input itself
 *   (a patch's row ky is k·c contiguous values), so no patch matrix is built and the gradients
 *   that max pooling zeroed (¾ of them) cost nothing;
 * - inputs    dpatches = dZ · Wᵀ (row lists of dZ, transposed weights), each patch row added
 *   into the padded input's gradient as it is computed (cnn_conv_dx).
 * Max pooling records each output's argmax (the first maximum in row-major window order, as
 * tfjs's gradient picks it), and its backward pass routes each gradient there, only through
 * windows whose maximum is positive: the pooled conv's ReLU would zero the rest.
 */

/** Vectors (4 floats) per register block, as mlp_blk. */
const MAX_V = 12;
/** Pixels per block of the direct conv, and the most accumulators (pixels × vectors) in one block. */
const MAX_R = 4;
const FWD_ACCUMULATORS = 12;
export function fwdPixels(V: number): number {
  return Math.max(1, Math.min(MAX_R, Math.floor(FWD_ACCUMULATORS / V)));
}

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
   * The forward pass of a conv, direct: y[j, ·] = ReLU(Σ_t xp[patch j, t] · W[t, ·] + b) for output
   * pixels j of images [0, n), in float32 from +0 in patch order (t ascending, each product
   * rounded, then the bias). Skipping zero inputs would not change a sum (a zero's product adds
   * ±0, and a sum that starts at +0 never becomes −0): it gives mlp_gemm's outputs over lists of
   * the nonzero patch entries bit for bit, without writing and reading 8 bytes of list per entry
   * (measured: list building took as long as the products). Four patch entries at a time are
   * skipped where they are zero for all the block's pixels (image backgrounds, ReLU zeros). A block is R neighbouring pixels of an output row × V output
   * vectors: a conv has few filters (LeNet-5: 6 and 16, V = 2 and 4), and one pixel's V sums
   * alone would wait on the adder's latency; R pixels share each weight load.
   */
  const blocks: [number, number][] = [];
  for (let V = 1; V <= MAX_V; V++) for (let R = 1; R <= fwdPixels(V); R++) blocks.push([R, V]);
  for (const [R, V] of blocks) {
    const acc = (r: number, v: number) => `$a${r}_${v}`;
    emit(`(func $cnn_fwd_blk_${R}_${V} (param $src i32) (param $k i32) (param $kc i32) (param $wpBytes i32) (param $pix i32) (param $w i32) (param $rowBytes i32) (param $y i32)`);
    const accs = Array.from({ length: R }, (_, r) => Array.from({ length: V }, (_, v) => `(local ${acc(r, v)} v128)`).join(' ')).join(' ');
    emit(`  ${accs} ${Array.from({ length: R }, (_, r) => `(local $x${r} v128) (local $q${r} i32)`).join(' ')}`);
    emit(`  ${Array.from({ length: V }, (_, v) => `(local $w${v} v128)`).join(' ')} (local $r i32) (local $ky i32) (local $u i32) (local $kc4 i32) (local $rb4 i32)`);
    emit('  (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))');
    emit('  (local.set $rb4 (i32.shl (local.get $rowBytes) (i32.const 2)))');
    // $r walks the weight rows (t·rowBytes from $w), $q0 … the patch rows' inputs of the R pixels.
    emit('  (local.set $r (local.get $w))');
    const tap = (ind: string, off: number) => {
      for (let r = 0; r < R; r++) emit(`${ind}(local.set $x${r} (v128.load32_splat offset=${off} (local.get $q${r})))`);
      for (let v = 0; v < V; v++) {
        emit(`${ind}(local.set $w${v} (v128.load offset=${16 * v} (local.get $r)))`);
        for (let r = 0; r < R; r++) emit(`${ind}(local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $x${r}) (local.get $w${v}))))`);
      }
    };
    const advance = (ind: string, bytes: string) => {
      for (let r = 0; r < R; r++) emit(`${ind}(local.set $q${r} (i32.add (local.get $q${r}) ${bytes}))`);
    };
    emit('  (block $d3 (loop $l3');
    emit('    (br_if $d3 (i32.ge_u (local.get $ky) (local.get $k)))');
    emit('    (local.set $q0 (i32.add (local.get $src) (i32.mul (local.get $ky) (local.get $wpBytes))))');
    for (let r = 1; r < R; r++) emit(`    (local.set $q${r} (i32.add (local.get $q${r - 1}) (local.get $pix)))`);
    emit('    (local.set $u (i32.const 0))');
    emit('    (block $d4 (loop $l4');
    emit('      (br_if $d4 (i32.ge_u (local.get $u) (local.get $kc4)))');
    let any = '(v128.load (local.get $q0))';
    for (let r = 1; r < R; r++) any = `(v128.or ${any} (v128.load (local.get $q${r})))`;
    emit(`      (if (v128.any_true ${any}) (then`);
    for (let t = 0; t < 4; t++) {
      if (t > 0) emit('        (local.set $r (i32.add (local.get $r) (local.get $rowBytes)))');
      tap('        ', 4 * t);
    }
    emit('        (local.set $r (i32.sub (local.get $r) (i32.mul (local.get $rowBytes) (i32.const 3))))))');
    advance('      ', '(i32.const 16)');
    emit('      (local.set $r (i32.add (local.get $r) (local.get $rb4)))');
    emit('      (local.set $u (i32.add (local.get $u) (i32.const 4))) (br $l4)))');
    emit('    (block $d5 (loop $l5');
    emit('      (br_if $d5 (i32.ge_u (local.get $u) (local.get $kc)))');
    tap('      ', 0);
    advance('      ', '(i32.const 4)');
    emit('      (local.set $r (i32.add (local.get $r) (local.get $rowBytes)))');
    emit('      (local.set $u (i32.add (local.get $u) (i32.const 1))) (br $l5)))');
    emit('    (local.set $ky (i32.add (local.get $ky) (i32.const 1))) (br $l3)))');
    // $r is now the bias row; 1 · b is b exactly.
    // Pixel r's outputs at y + r·rowBytes ($q0 … reused as the addresses).
    for (let r = 0; r < R; r++) emit(`  (local.set $q${r} ${r === 0 ? '(local.get $y)' : `(i32.add (local.get $q${r - 1}) (local.get $rowBytes))`})`);
    for (let v = 0; v < V; v++) {
      emit(`  (local.set $w${v} (v128.load offset=${16 * v} (local.get $r)))`);
      for (let r = 0; r < R; r++) {
        emit(`  (v128.store offset=${16 * v} (local.get $q${r}) (f32x4.pmax (v128.const f32x4 0 0 0 0) (f32x4.add (local.get ${acc(r, v)}) (local.get $w${v}))))`);
      }
    }
    emit(')');
  }
  {
    const args = '(local.get $src) (local.get $k) (local.get $kc) (local.get $wpBytes) (local.get $pix) (local.get $w) (local.get $rowBytes) (local.get $y)';
    const idx = (R: number, V: number) => (V - 1) * MAX_R + R - 1;
    const table = Array.from({ length: MAX_V * MAX_R }, (_, i) => {
      const V = Math.floor(i / MAX_R) + 1, R = (i % MAX_R) + 1;
      return blocks.some(([r, v]) => r === R && v === V) ? `$b${i}` : '$none';
    });
    let body = `(br_table ${table.join(' ')} $none (local.get $i))`;
    body = `(block $none ${body}) (return)`;
    for (const [R, V] of blocks) body = `(block $b${idx(R, V)} ${body}) (call $cnn_fwd_blk_${R}_${V} ${args}) (return)`;
    emit('(func $cnn_fwd_blk (param $i i32) (param $src i32) (param $k i32) (param $kc i32) (param $wpBytes i32) (param $pix i32) (param $w i32) (param $rowBytes i32) (param $y i32)');
    emit(`  ${body})`);
  }
  /*
   * y [n·oh·ow, outPad] (outPad a multiple of 4) = ReLU of the conv of images [0, n) of xp with
   * the parameters w [k·k·c + 1, outPad]; outPad in blocks of V vectors as mlp_gemm's, an output
   * row in blocks of fwdPixels(V) pixels and what is left.
   */
  emit('(func (export "cnn_conv_fwd") (param $xp i32) (param $n i32) (param $oh i32) (param $ow i32) (param $k i32) (param $c i32)');
  emit('  (param $wpBytes i32) (param $imgBytes i32) (param $w i32) (param $outPad i32) (param $y i32)');
  emit('  (local $nv i32) (local $nb i32) (local $base i32) (local $extra i32) (local $kb i32) (local $V i32) (local $ob i32) (local $R i32) (local $r i32)');
  emit('  (local $b i32) (local $oy i32) (local $ox i32) (local $img i32) (local $corner i32) (local $yp i32) (local $rowBytes i32) (local $kc i32) (local $pix i32)');
  emit('  (local.set $rowBytes (i32.shl (local.get $outPad) (i32.const 2)))');
  emit('  (local.set $kc (i32.mul (local.get $k) (local.get $c)))');
  emit('  (local.set $pix (i32.shl (local.get $c) (i32.const 2)))');
  emit('  (local.set $nv (i32.shr_u (local.get $outPad) (i32.const 2)))');
  emit(`  (local.set $nb (i32.div_u (i32.add (local.get $nv) (i32.const ${MAX_V - 1})) (i32.const ${MAX_V})))`);
  emit('  (if (i32.eqz (local.get $nb)) (then (return)))');
  emit('  (local.set $base (i32.div_u (local.get $nv) (local.get $nb)))');
  emit('  (local.set $extra (i32.rem_u (local.get $nv) (local.get $nb)))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $kb) (local.get $nb)))');
  emit('    (local.set $V (i32.add (local.get $base) (i32.lt_u (local.get $kb) (local.get $extra))))');
  // R = fwdPixels(V).
  emit(`    (local.set $R (i32.div_u (i32.const ${FWD_ACCUMULATORS}) (local.get $V)))`);
  emit(`    (local.set $R (select (i32.const ${MAX_R}) (local.get $R) (i32.gt_u (local.get $R) (i32.const ${MAX_R}))))`);
  emit('    (local.set $R (select (local.get $R) (i32.const 1) (local.get $R)))');
  emit('    (local.set $yp (i32.add (local.get $y) (i32.shl (local.get $ob) (i32.const 4))))');
  emit('    (local.set $img (local.get $xp)) (local.set $b (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('      (local.set $oy (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('        (local.set $corner (i32.add (local.get $img) (i32.mul (local.get $oy) (local.get $wpBytes))))');
  emit('        (local.set $ox (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $ox) (local.get $ow)))');
  emit('          (local.set $r (select (local.get $R) (i32.sub (local.get $ow) (local.get $ox)) (i32.le_u (local.get $R) (i32.sub (local.get $ow) (local.get $ox)))))');
  emit(`          (call $cnn_fwd_blk (i32.add (i32.mul (i32.sub (local.get $V) (i32.const 1)) (i32.const ${MAX_R})) (i32.sub (local.get $r) (i32.const 1)))`);
  emit('            (local.get $corner) (local.get $k) (local.get $kc) (local.get $wpBytes) (local.get $pix)');
  emit('            (i32.add (local.get $w) (i32.shl (local.get $ob) (i32.const 4))) (local.get $rowBytes) (local.get $yp))');
  emit('          (local.set $corner (i32.add (local.get $corner) (i32.mul (local.get $pix) (local.get $r))))');
  emit('          (local.set $yp (i32.add (local.get $yp) (i32.mul (local.get $rowBytes) (local.get $r))))');
  emit('          (local.set $ox (i32.add (local.get $ox) (local.get $r))) (br $l3)))');
  emit('        (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $l2)))');
  emit('      (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('      (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l1)))');
  emit('    (local.set $ob (i32.add (local.get $ob) (local.get $V)))');
  emit('    (local.set $kb (i32.add (local.get $kb) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * Max pooling (valid windows size × size, stride s) of y (F channels of images [0, n), a pixel
   * yPix bytes, a row yRow, an image yImg) into out (F channels exact: a pixel F·4 bytes, a row
   * outRow, an image outImg), and arg[o] = (wy << 16) | wx, the window position of output o's
   * first maximum in row-major window order (outputs in (b, py, px, f) order). Comparisons are ">" against the
   * running maximum, so ties keep the first.
   */
  emit('(func (export "cnn_pool_fwd") (param $y i32) (param $n i32) (param $ph i32) (param $pw i32) (param $F i32) (param $size i32) (param $s i32)');
  emit('  (param $yPix i32) (param $yRow i32) (param $yImg i32) (param $out i32) (param $outRow i32) (param $outImg i32) (param $arg i32)');
  emit('  (local $b i32) (local $py i32) (local $px i32) (local $f i32) (local $wy i32) (local $wx i32) (local $base i32) (local $a i32) (local $o i32) (local $rem i32)');
  emit('  (local $best v128) (local $bi v128) (local $v v128) (local $gt v128) (local $wi i32)');
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
  emit('        (local.set $base (i32.add (i32.mul (local.get $b) (local.get $yImg))');
  emit('          (i32.add (i32.mul (i32.mul (local.get $py) (local.get $s)) (local.get $yRow)) (i32.mul (i32.mul (local.get $px) (local.get $s)) (local.get $yPix)))))');
  // Four channels at a time (y's padding channels are read, not written); bi holds each lane's window position.
  emit('        (local.set $f (i32.const 0))');
  emit('        (block $d3 (loop $l3');
  emit('          (br_if $d3 (i32.ge_u (local.get $f) (local.get $F)))');
  emit('          (local.set $best (v128.const f32x4 -inf -inf -inf -inf)) (local.set $bi (v128.const i32x4 0 0 0 0))');
  // 2 × 2 windows (LeNet-5's) unrolled; the same comparisons in the same order as the loops.
  emit('          (if (i32.eq (local.get $size) (i32.const 2)) (then');
  emit('            (local.set $v (v128.load (i32.add (i32.add (local.get $y) (local.get $base)) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
  emit('            (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
  emit('            (local.set $bi (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $bi) (local.get $gt)))');
  emit('            (local.set $v (v128.load (i32.add (i32.add (local.get $y) (i32.add (local.get $base) (local.get $yPix))) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
  emit('            (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
  emit('            (local.set $bi (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $bi) (local.get $gt)))');
  emit('            (local.set $v (v128.load (i32.add (i32.add (local.get $y) (i32.add (local.get $base) (local.get $yRow))) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
  emit('            (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
  emit('            (local.set $bi (v128.bitselect (v128.const i32x4 65536 65536 65536 65536) (local.get $bi) (local.get $gt)))');
  emit('            (local.set $v (v128.load (i32.add (i32.add (local.get $y) (i32.add (i32.add (local.get $base) (local.get $yRow)) (local.get $yPix))) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
  emit('            (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
  emit('            (local.set $bi (v128.bitselect (v128.const i32x4 65537 65537 65537 65537) (local.get $bi) (local.get $gt)))');
  emit('          ) (else');
  emit('            (local.set $wy (i32.const 0))');
  emit('            (block $d4 (loop $l4');
  emit('              (br_if $d4 (i32.ge_u (local.get $wy) (local.get $size)))');
  emit('              (local.set $a (i32.add (local.get $base) (i32.mul (local.get $wy) (local.get $yRow))))');
  emit('              (local.set $wx (i32.const 0)) (local.set $wi (i32.shl (local.get $wy) (i32.const 16)))');
  emit('              (block $d5 (loop $l5');
  emit('                (br_if $d5 (i32.ge_u (local.get $wx) (local.get $size)))');
  emit('                (local.set $v (v128.load (i32.add (i32.add (local.get $y) (local.get $a)) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('                (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
  emit('                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
  emit('                (local.set $bi (v128.bitselect (i32x4.splat (local.get $wi)) (local.get $bi) (local.get $gt)))');
  emit('                (local.set $a (i32.add (local.get $a) (local.get $yPix))) (local.set $wi (i32.add (local.get $wi) (i32.const 1)))');
  emit('                (local.set $wx (i32.add (local.get $wx) (i32.const 1))) (br $l5)))');
  emit('              (local.set $wy (i32.add (local.get $wy) (i32.const 1))) (br $l4)))');
  emit('          ))');
  emit('          (local.set $rem (i32.sub (local.get $F) (local.get $f)))');
  emit('          (if (i32.ge_u (local.get $rem) (i32.const 4)) (then');
  emit('            (v128.store (local.get $o) (local.get $best)) (v128.store (local.get $arg) (local.get $bi))');
  emit('            (local.set $o (i32.add (local.get $o) (i32.const 16))) (local.set $arg (i32.add (local.get $arg) (i32.const 16))))');
  emit('          (else');
  for (let lane = 0; lane < 3; lane++) {
    emit(`            (if (i32.gt_u (local.get $rem) (i32.const ${lane})) (then`);
    emit(`              (f32.store offset=${4 * lane} (local.get $o) (f32x4.extract_lane ${lane} (local.get $best)))`);
    emit(`              (i32.store offset=${4 * lane} (local.get $arg) (i32x4.extract_lane ${lane} (local.get $bi)))))`);
  }
  emit('            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rem) (i32.const 2))))');
  emit('            (local.set $arg (i32.add (local.get $arg) (i32.shl (local.get $rem) (i32.const 2))))))');
  emit('          (local.set $f (i32.add (local.get $f) (i32.const 4))) (br $l3)))');
  emit('        (local.set $px (i32.add (local.get $px) (i32.const 1))) (br $l2)))');
  emit('      (local.set $py (i32.add (local.get $py) (i32.const 1))) (br $l1)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  /*
   * The max pool's backward pass, and the pooled conv's weight-gradient lists and bias gradient
   * straight from it: the conv's output gradient dz is nonzero only at the argmax of a window
   * whose maximum is > 0 (elsewhere the pool or the ReLU zeroes it), so instead of scanning dz
   * [n·oh·ow, Fpad] for nonzeros (¾ or more of it zero) its entries are listed here. For each
   * output o (cnn_pool_fwd's layout, also that of the gradient dout) with out[o] > 0 and
   * g = dout[o] ≠ 0, at the conv output pixel (b, oy, ox) of its argmax, for filter f:
   * - list f (at lists + f·listStride) gets (b·imgBytes + oy·wpBytes + ox·pixBytes, g): the
   *   pixel's patch corner in the conv's padded input, whose rows the weight-gradient GEMM reads;
   * - bias[f] += g (float32, in output order from 0);
   * - with dy ≠ 0 (the conv's input gradient needs dz): dy[b·yImg + oy·yRow + ox·yPix + f·4] += g,
   *   dy zeroed by the caller.
   * counts[f] is list f's length (counts, bias: F values).
   */
  emit('(func (export "cnn_pool_bwd") (param $out i32) (param $dout i32) (param $n i32) (param $ph i32) (param $pw i32) (param $F i32)');
  emit('  (param $outRow i32) (param $outImg i32) (param $arg i32) (param $s i32) (param $dy i32) (param $yPix i32) (param $yRow i32) (param $yImg i32)');
  emit('  (param $pixBytes i32) (param $wpBytes i32) (param $imgBytes i32) (param $lists i32) (param $listStride i32) (param $counts i32) (param $bias i32)');
  emit('  (local $b i32) (local $py i32) (local $px i32) (local $f i32) (local $o i32) (local $a i32) (local $g f32) (local $oy i32) (local $ox i32) (local $cur i32) (local $p i32) (local $keep i32)');
  // counts[f] holds list f's write position until the end.
  emit('  (block $d (loop $l');
  emit('    (br_if $d (i32.ge_u (local.get $f) (local.get $F)))');
  emit('    (i32.store (i32.add (local.get $counts) (i32.shl (local.get $f) (i32.const 2))) (i32.add (local.get $lists) (i32.mul (local.get $f) (local.get $listStride))))');
  emit('    (f32.store (i32.add (local.get $bias) (i32.shl (local.get $f) (i32.const 2))) (f32.const 0))');
  emit('    (local.set $f (i32.add (local.get $f) (i32.const 1))) (br $l)))');
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
  // Branch-free (whether a window's maximum is positive follows the image, not a pattern): the
  // entry is always written and kept by advancing the cursor; g becomes 0 where it is not kept.
  emit('          (local.set $g (f32.load (i32.add (local.get $dout) (local.get $o))))');
  emit('          (local.set $keep (i32.and (f32.gt (f32.load (i32.add (local.get $out) (local.get $o))) (f32.const 0)) (f32.ne (local.get $g) (f32.const 0))))');
  emit('          (local.set $g (select (local.get $g) (f32.const 0) (local.get $keep)))');
  emit('          (local.set $a (i32.load (local.get $arg)))');
  emit('          (local.set $oy (i32.add (i32.mul (local.get $py) (local.get $s)) (i32.shr_u (local.get $a) (i32.const 16))))');
  emit('          (local.set $ox (i32.add (i32.mul (local.get $px) (local.get $s)) (i32.and (local.get $a) (i32.const 0xffff))))');
  emit('          (local.set $p (i32.add (local.get $counts) (i32.shl (local.get $f) (i32.const 2))))');
  emit('          (local.set $cur (i32.load (local.get $p)))');
  emit('          (i32.store (local.get $cur) (i32.add (i32.mul (local.get $b) (local.get $imgBytes))');
  emit('            (i32.add (i32.mul (local.get $oy) (local.get $wpBytes)) (i32.mul (local.get $ox) (local.get $pixBytes)))))');
  emit('          (f32.store offset=4 (local.get $cur) (local.get $g))');
  emit('          (i32.store (local.get $p) (i32.add (local.get $cur) (i32.shl (local.get $keep) (i32.const 3))))');
  // Adding +0 leaves a sum unchanged (a sum from +0 is never −0).
  emit('          (local.set $p (i32.add (local.get $bias) (i32.shl (local.get $f) (i32.const 2))))');
  emit('          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (local.get $g)))');
  emit('          (if (local.get $dy) (then');
  emit('            (local.set $p (i32.add (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $yImg)))');
  emit('              (i32.add (i32.add (i32.mul (local.get $oy) (local.get $yRow)) (i32.mul (local.get $ox) (local.get $yPix))) (i32.shl (local.get $f) (i32.const 2)))))');
  emit('            (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (local.get $g)))))');
  emit('          (local.set $o (i32.add (local.get $o) (i32.const 4))) (local.set $arg (i32.add (local.get $arg) (i32.const 4)))');
  emit('          (local.set $f (i32.add (local.get $f) (i32.const 1))) (br $l3)))');
  emit('        (local.set $px (i32.add (local.get $px) (i32.const 1))) (br $l2)))');
  emit('      (local.set $py (i32.add (local.get $py) (i32.const 1))) (br $l1)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit('  (local.set $f (i32.const 0))');
  emit('  (block $e (loop $m');
  emit('    (br_if $e (i32.ge_u (local.get $f) (local.get $F)))');
  emit('    (local.set $p (i32.add (local.get $counts) (i32.shl (local.get $f) (i32.const 2))))');
  emit('    (i32.store (local.get $p) (i32.shr_u (i32.sub (i32.load (local.get $p)) (i32.add (local.get $lists) (i32.mul (local.get $f) (local.get $listStride)))) (i32.const 3)))');
  emit('    (local.set $f (i32.add (local.get $f) (i32.const 1))) (br $m)))');
  emit(')');

  /*
   * A conv's input gradient: for each output pixel j of images [0, n) (list j at lists +
   * j·listStride, counts[j] entries: its nonzero output gradients (f·k·kcp·4, dz[j, f]) in filter
   * order, from mlp_row_lists), and each patch row ky, the k·c values of dxp from the pixel's
   * corner + ky rows are increased by Σ_f dz[j, f] · t[f, ky, ·] (mlp_blk continuing from dxp's
   * values), t the weights transposed [Fpad, k, kcp] with kcp = pad4(k·c) and zeros in each row's
   * padding, so that the kcp − k·c values past a patch row get +0 (unchanged). dxp is padded as
   * xp, zeroed by the caller. The patch gradients are never stored (no col2im pass), and pixels
   * without a gradient are skipped.
   */
  emit('(func (export "cnn_conv_dx") (param $lists i32) (param $listStride i32) (param $counts i32) (param $n i32) (param $oh i32) (param $ow i32)');
  emit('  (param $k i32) (param $t i32) (param $kcp i32) (param $dxp i32) (param $wpBytes i32) (param $imgBytes i32) (param $pixBytes i32)');
  emit('  (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $list i32) (local $cnt i32) (local $corner i32) (local $img i32)');
  emit('  (local $nv i32) (local $nb i32) (local $base i32) (local $extra i32) (local $kb i32) (local $V i32) (local $ob i32) (local $y i32) (local $w i32)');
  emit('  (local.set $nv (i32.shr_u (local.get $kcp) (i32.const 2)))');
  emit(`  (local.set $nb (i32.div_u (i32.add (local.get $nv) (i32.const ${MAX_V - 1})) (i32.const ${MAX_V})))`);
  emit('  (if (i32.eqz (local.get $nb)) (then (return)))');
  emit('  (local.set $base (i32.div_u (local.get $nv) (local.get $nb)))');
  emit('  (local.set $extra (i32.rem_u (local.get $nv) (local.get $nb)))');
  emit('  (local.set $list (local.get $lists)) (local.set $img (local.get $dxp))');
  emit('  (block $d0 (loop $l0');
  emit('    (br_if $d0 (i32.ge_u (local.get $b) (local.get $n)))');
  emit('    (local.set $oy (i32.const 0))');
  emit('    (block $d1 (loop $l1');
  emit('      (br_if $d1 (i32.ge_u (local.get $oy) (local.get $oh)))');
  emit('      (local.set $corner (i32.add (local.get $img) (i32.mul (local.get $oy) (local.get $wpBytes))))');
  emit('      (local.set $ox (i32.const 0))');
  emit('      (block $d2 (loop $l2');
  emit('        (br_if $d2 (i32.ge_u (local.get $ox) (local.get $ow)))');
  emit('        (local.set $cnt (i32.load (local.get $counts)))');
  emit('        (if (local.get $cnt) (then');
  emit('          (local.set $ky (i32.const 0))');
  emit('          (block $d3 (loop $l3');
  emit('            (br_if $d3 (i32.ge_u (local.get $ky) (local.get $k)))');
  emit('            (local.set $y (i32.add (local.get $corner) (i32.mul (local.get $ky) (local.get $wpBytes))))');
  emit('            (local.set $w (i32.add (local.get $t) (i32.shl (i32.mul (local.get $ky) (local.get $kcp)) (i32.const 2))))');
  emit('            (local.set $kb (i32.const 0)) (local.set $ob (i32.const 0))');
  emit('            (block $d4 (loop $l4');
  emit('              (br_if $d4 (i32.ge_u (local.get $kb) (local.get $nb)))');
  emit('              (local.set $V (i32.add (local.get $base) (i32.lt_u (local.get $kb) (local.get $extra))))');
  emit('              (call $mlp_blk (local.get $V) (local.get $list) (local.get $cnt) (i32.add (local.get $w) (i32.shl (local.get $ob) (i32.const 4)))');
  emit('                (i32.add (local.get $y) (i32.shl (local.get $ob) (i32.const 4))) (i32.const 0) (i32.const 0) (i32.const 1))');
  emit('              (local.set $ob (i32.add (local.get $ob) (local.get $V)))');
  emit('              (local.set $kb (i32.add (local.get $kb) (i32.const 1))) (br $l4)))');
  emit('            (local.set $ky (i32.add (local.get $ky) (i32.const 1))) (br $l3)))))');
  emit('        (local.set $list (i32.add (local.get $list) (local.get $listStride)))');
  emit('        (local.set $counts (i32.add (local.get $counts) (i32.const 4)))');
  emit('        (local.set $corner (i32.add (local.get $corner) (local.get $pixBytes)))');
  emit('        (local.set $ox (i32.add (local.get $ox) (i32.const 1))) (br $l2)))');
  emit('      (local.set $oy (i32.add (local.get $oy) (i32.const 1))) (br $l1)))');
  emit('    (local.set $img (i32.add (local.get $img) (local.get $imgBytes)))');
  emit('    (local.set $b (i32.add (local.get $b) (i32.const 1))) (br $l0)))');
  emit(')');

  return out.join('\n');
}
