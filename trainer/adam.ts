/**
 * Adam in one pass over each parameter array, with an optional pruning mask applied in the same
 * pass. tfjs-core's optimizer runs about ten tensor ops per variable per step (each a kernel call
 * and an allocation); for the CNN trainer's many small tensors that was ~8 % of a step on wasm.
 *
 * The arithmetic is tfjs-core's AdamOptimizer, rounded to float32 after every operation as its
 * kernels do (Math.fround), so it agrees with tf.train.adam on the cpu backend
 * (trainer/adam.test.ts):
 *   m ← m·β1 + g·(1 − β1),  v ← v·β2 + g²·(1 − β2)
 *   p ← p − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε),  ε = 1e-7 (tfjs's float32 epsilon)
 * with β1ᵗ, β2ᵗ kept as running float32 products.
 */
const f = Math.fround;

export class FusedAdam {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private accBeta1: number;
  private accBeta2: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly oneMinusB1: number;
  private readonly oneMinusB2: number;

  constructor(readonly learningRate: number, beta1 = 0.9, beta2 = 0.999, readonly epsilon = 1e-7) {
    this.b1 = f(beta1);
    this.b2 = f(beta2);
    this.oneMinusB1 = f(1 - beta1);
    this.oneMinusB2 = f(1 - beta2);
    this.accBeta1 = this.b1;
    this.accBeta2 = this.b2;
  }

  /**
   * One step: updates every `params[name]` in place from `grads[name]` (same length), then zeroes
   * it where `masks.get(name)` is 0. Moments of masked weights keep evolving, as with a mask
   * multiplied in after the optimizer.
   */
  step(params: Map<string, Float32Array>, grads: Record<string, Float32Array>, masks?: Map<string, Float32Array>): void {
    const c1 = f(1 - this.accBeta1), c2 = f(1 - this.accBeta2);
    const lr = f(-this.learningRate), eps = f(this.epsilon);
    const { b1, b2, oneMinusB1, oneMinusB2 } = this;
    for (const [name, g] of Object.entries(grads)) {
      const p = params.get(name);
      if (!p) throw new Error(`no parameter '${name}' for its gradient`);
      if (p.length !== g.length) throw new Error(`gradient of '${name}' has ${g.length} values, the parameter ${p.length}`);
      let m = this.m.get(name), v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const mask = masks?.get(name);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = f(f(m[i] * b1) + f(gi * oneMinusB1));
        const vi = f(f(v[i] * b2) + f(f(gi * gi) * oneMinusB2));
        m[i] = mi;
        v[i] = vi;
        const step = f(f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps)) * lr);
        const next = f(step + p[i]);
        p[i] = mask && mask[i] === 0 ? 0 : next;
      }
    }
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
  }
}
