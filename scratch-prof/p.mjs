// trainer/engine.ts
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
var require2 = createRequire(import.meta.url);
async function initEngine(prefer = "auto") {
  const tried = [];
  if (prefer === "auto" || prefer === "tensorflow") {
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      try {
        require2(pkg);
        if (await tf.setBackend("tensorflow")) return done("tensorflow", pkg);
      } catch (err) {
        tried.push(`${pkg}: ${err.message.split("\n")[0]}`);
      }
    }
    if (prefer === "tensorflow") throw new Error(`engine 'tensorflow' requested but unavailable (${tried.join("; ")})`);
  }
  if (prefer === "auto" || prefer === "wasm") {
    try {
      await import("@tensorflow/tfjs-backend-wasm");
      if (await tf.setBackend("wasm")) return done("wasm", "@tensorflow/tfjs-backend-wasm");
    } catch (err) {
      tried.push(`wasm: ${err.message}`);
      if (prefer === "wasm") throw new Error(`engine 'wasm' requested but unavailable: ${err.message}`);
    }
  }
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  return done("cpu", "@tensorflow/tfjs-backend-cpu");
  async function done(backend, provider) {
    await tf.ready();
    return { backend, provider, tfjsVersion: tf.version_core };
  }
}

// trainer/cnn-train.ts
import * as tf2 from "@tensorflow/tfjs-core";

// lib/class-array.ts
var LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// lib/model/arch.ts
var ArchError = class extends Error {
  name = "ArchError";
};
function lenet5Arch(input, classes, options = {}) {
  const [c1, c2] = options.conv ?? [6, 16];
  const hidden = options.dense ?? [120, 84];
  const ops = [
    { op: "conv", name: "conv1", input: "input", output: "conv1", filters: c1, kernel: 5, stride: 1, padding: 2, batchNorm: false, relu: true },
    { op: "maxpool", input: "conv1", output: "pool1", size: 2, stride: 2 },
    { op: "conv", name: "conv2", input: "pool1", output: "conv2", filters: c2, kernel: 5, stride: 1, padding: 0, batchNorm: false, relu: true },
    { op: "maxpool", input: "conv2", output: "pool2", size: 2, stride: 2 }
  ];
  let prev = "pool2";
  [...hidden, classes].forEach((units, i) => {
    const output = `fc${i + 1}`;
    ops.push({ op: "dense", name: output, input: prev, output, units, relu: i < hidden.length });
    prev = output;
  });
  return checkArch({ name: "lenet5", input, classes, ops, output: prev });
}
function windowOut(size, kernel, stride, padding) {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}
function tensorShapes(arch2) {
  const shapes = /* @__PURE__ */ new Map([["input", arch2.input]]);
  const get = (name, by) => {
    const s = shapes.get(name);
    if (!s) throw new ArchError(`${by} reads tensor '${name}', which no earlier op writes`);
    return s;
  };
  for (const op of arch2.ops) {
    const by = `${op.op} '${"name" in op ? op.name : op.output}'`;
    if (shapes.has(op.output)) throw new ArchError(`${by} writes tensor '${op.output}' a second time`);
    let out;
    switch (op.op) {
      case "conv": {
        const [h, w] = get(op.input, by);
        out = [windowOut(h, op.kernel, op.stride, op.padding), windowOut(w, op.kernel, op.stride, op.padding), op.filters];
        break;
      }
      case "maxpool": {
        const [h, w, c] = get(op.input, by);
        out = [windowOut(h, op.size, op.stride, 0), windowOut(w, op.size, op.stride, 0), c];
        break;
      }
      case "add": {
        const a = get(op.inputs[0], by), b = get(op.inputs[1], by);
        if (a.join() !== b.join()) throw new ArchError(`${by} adds tensors of shapes [${a}] and [${b}]`);
        out = [...a];
        break;
      }
      case "gap":
        out = [1, 1, get(op.input, by)[2]];
        break;
      case "dense":
        get(op.input, by);
        out = [1, 1, op.units];
        break;
    }
    if (out.some((d) => !Number.isInteger(d) || d < 1)) throw new ArchError(`${by} gives an empty output [${out}]`);
    shapes.set(op.output, out);
  }
  return shapes;
}
function paramSpecs(arch2) {
  const shapes = tensorShapes(arch2);
  const specs = [];
  for (const op of arch2.ops) {
    if (op.op === "conv") {
      const inC = shapes.get(op.input)[2];
      specs.push({ name: `${op.name}.kernel`, shape: [op.kernel, op.kernel, inC, op.filters], prunable: true });
      if (op.batchNorm) {
        for (const p of ["gamma", "beta", "mean", "variance"]) specs.push({ name: `${op.name}.${p}`, shape: [op.filters], prunable: false });
      } else {
        specs.push({ name: `${op.name}.bias`, shape: [op.filters], prunable: false });
      }
    } else if (op.op === "dense") {
      const inDim = shapes.get(op.input).reduce((a, b) => a * b, 1);
      specs.push({ name: `${op.name}.kernel`, shape: [inDim, op.units], prunable: true });
      specs.push({ name: `${op.name}.bias`, shape: [op.units], prunable: false });
    }
  }
  return specs;
}
function checkArch(arch2) {
  const names = /* @__PURE__ */ new Set();
  for (const op of arch2.ops) {
    if ("name" in op) {
      if (names.has(op.name)) throw new ArchError(`two ops are named '${op.name}'`);
      names.add(op.name);
    }
  }
  const out = tensorShapes(arch2).get(arch2.output);
  if (!out) throw new ArchError(`output tensor '${arch2.output}' is not written by any op`);
  if (out.join() !== `1,1,${arch2.classes}`) throw new ArchError(`output '${arch2.output}' has shape [${out}], expected [1,1,${arch2.classes}]`);
  return arch2;
}
var BATCH_NORM_EPSILON = 1e-5;

// lib/random.ts
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function permutation(n2, rand) {
  const p = new Uint32Array(n2);
  for (let i = 0; i < n2; i++) p[i] = i;
  for (let i = n2 - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

// trainer/pruning.ts
function sparsityAt(step, s) {
  const span = Math.max(1, s.end - s.begin);
  const p = Math.min(1, Math.max(0, (step - s.begin) / span));
  return s.target + (0 - s.target) * (1 - p) ** 3;
}
function isMaskUpdateStep(step, s) {
  if (step < s.begin || step > s.end) return false;
  return (step - s.begin) % s.frequency === 0 || step === s.end;
}
function magnitudeMask(weights, sparsity, mask = new Float32Array(weights.length)) {
  const n2 = weights.length;
  const k = Math.round(n2 * (1 - sparsity));
  if (k >= n2) return mask.fill(1);
  if (k <= 0) return mask.fill(0);
  const abs = new Float32Array(n2);
  for (let i = 0; i < n2; i++) abs[i] = Math.abs(weights[i]);
  const sorted = abs.slice().sort();
  const threshold = sorted[n2 - k];
  let kept = 0;
  for (let i = 0; i < n2; i++) {
    const keep2 = abs[i] > threshold ? 1 : 0;
    mask[i] = keep2;
    kept += keep2;
  }
  for (let i = 0; i < n2 && kept < k; i++) {
    if (abs[i] === threshold) {
      mask[i] = 1;
      kept++;
    }
  }
  return mask;
}
function measuredSparsity(weights) {
  let zeros = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] === 0) zeros++;
  return zeros / weights.length;
}

// trainer/cnn-train.ts
var BATCH_NORM_MOMENTUM = 0.9;
function initArchWeights(arch2, seed) {
  const rand = mulberry32(seed);
  const params = {};
  for (const { name, shape } of paramSpecs(arch2)) {
    const n2 = shape.reduce((a, b) => a * b, 1);
    const p = new Float32Array(n2);
    if (name.endsWith(".kernel")) {
      const limit = shape.length === 4 ? Math.sqrt(6 / (shape[0] * shape[1] * shape[2])) : Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < n2; i++) p[i] = (rand() * 2 - 1) * limit;
    } else if (name.endsWith(".gamma") || name.endsWith(".variance")) {
      p.fill(1);
    }
    params[name] = p;
  }
  return { arch: arch2, params };
}
function im2col(x, B, g) {
  const { h, w, c, k, stride, pad: pad2, oh, ow } = g;
  if (k === 1 && stride === 1 && pad2 === 0) return x;
  const K = k * k * c;
  const cols = new Float32Array(B * oh * ow * K);
  let row = 0;
  for (let b = 0; b < B; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row += K) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - pad2 + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride - pad2 + kx;
            if (ix < 0 || ix >= w) continue;
            const src = xb + (iy * w + ix) * c;
            const dst = row + (ky * k + kx) * c;
            for (let ci = 0; ci < c; ci++) cols[dst + ci] = x[src + ci];
          }
        }
      }
    }
  }
  return cols;
}
function col2im(dcols, B, g) {
  const { h, w, c, k, stride, pad: pad2, oh, ow } = g;
  if (k === 1 && stride === 1 && pad2 === 0) return dcols;
  const K = k * k * c;
  const dx = new Float32Array(B * h * w * c);
  let row = 0;
  for (let b = 0; b < B; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row += K) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - pad2 + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride - pad2 + kx;
            if (ix < 0 || ix >= w) continue;
            const dst = xb + (iy * w + ix) * c;
            const src = row + (ky * k + kx) * c;
            for (let ci = 0; ci < c; ci++) dx[dst + ci] += dcols[src + ci];
          }
        }
      }
    }
  }
  return dx;
}
function accumulate(map, name, d) {
  const prev = map.get(name);
  if (!prev) {
    map.set(name, d);
    return;
  }
  for (let i = 0; i < d.length; i++) prev[i] += d[i];
}
var ArchNet = class {
  constructor(arch2, init, tag) {
    this.arch = arch2;
    this.shapes = tensorShapes(arch2);
    for (const { name, shape } of paramSpecs(arch2)) {
      if (name.endsWith(".mean") || name.endsWith(".variance")) {
        this.running.set(name, init.params[name].slice());
      } else {
        this.vars.set(name, tf2.variable(tf2.tensor(init.params[name], shape), true, `${name}@${tag}`));
      }
    }
  }
  arch;
  shapes;
  vars = /* @__PURE__ */ new Map();
  /** BatchNorm running mean and variance, by `name.mean` / `name.variance`. */
  running = /* @__PURE__ */ new Map();
  /** Values of a variable (a copy). */
  read(name) {
    return this.vars.get(name).dataSync().slice();
  }
  weights() {
    const params = {};
    for (const { name } of paramSpecs(this.arch)) params[name] = this.running.get(name)?.slice() ?? this.read(name);
    return { arch: this.arch, params };
  }
  dispose() {
    for (const v of this.vars.values()) v.dispose();
  }
  /**
   * One forward and backward pass in training mode over a batch: xs [B, h, w, c], labels [B].
   * Returns the mean softmax cross-entropy and the gradients by variable name (tensors owned by
   * the caller's tidy scope). Updates the BatchNorm running averages when `updateRunning`.
   */
  gradients(xs, labels2, B, updateRunning) {
    const { arch: arch2, shapes } = this;
    const acts = /* @__PURE__ */ new Map([["input", xs]]);
    const caches = [];
    for (const op of arch2.ops) {
      const inS = shapes.get(op.op === "add" ? op.inputs[0] : op.input);
      const outS = shapes.get(op.output);
      switch (op.op) {
        case "conv": {
          const g = { h: inS[0], w: inS[1], c: inS[2], k: op.kernel, stride: op.stride, pad: op.padding, oh: outS[0], ow: outS[1] };
          const K = g.k * g.k * g.c, F = op.filters, M = B * g.oh * g.ow;
          const cols = tf2.tensor2d(im2col(acts.get(op.input), B, g), [M, K]);
          const z = tf2.matMul(cols, tf2.reshape(this.vars.get(`${op.name}.kernel`), [K, F])).dataSync();
          const y = new Float32Array(M * F);
          const cache = { op, g, cols };
          if (op.batchNorm) {
            const gamma = this.vars.get(`${op.name}.gamma`).dataSync();
            const beta = this.vars.get(`${op.name}.beta`).dataSync();
            const mean2 = new Float64Array(F), sq = new Float64Array(F);
            for (let r2 = 0; r2 < M; r2++) for (let f = 0; f < F; f++) mean2[f] += z[r2 * F + f];
            for (let f = 0; f < F; f++) mean2[f] /= M;
            for (let r2 = 0; r2 < M; r2++) for (let f = 0; f < F; f++) {
              const d = z[r2 * F + f] - mean2[f];
              sq[f] += d * d;
            }
            const invStd = new Float32Array(F);
            for (let f = 0; f < F; f++) invStd[f] = 1 / Math.sqrt(sq[f] / M + BATCH_NORM_EPSILON);
            const xhat = new Float32Array(M * F);
            for (let r2 = 0; r2 < M; r2++) {
              for (let f = 0; f < F; f++) {
                const i = r2 * F + f;
                xhat[i] = (z[i] - mean2[f]) * invStd[f];
                y[i] = gamma[f] * xhat[i] + beta[f];
              }
            }
            cache.xhat = xhat;
            cache.invStd = invStd;
            if (updateRunning) {
              const rm = this.running.get(`${op.name}.mean`), rv = this.running.get(`${op.name}.variance`);
              for (let f = 0; f < F; f++) {
                rm[f] = BATCH_NORM_MOMENTUM * rm[f] + (1 - BATCH_NORM_MOMENTUM) * mean2[f];
                rv[f] = BATCH_NORM_MOMENTUM * rv[f] + (1 - BATCH_NORM_MOMENTUM) * (sq[f] / Math.max(1, M - 1));
              }
            }
          } else {
            const bias = this.vars.get(`${op.name}.bias`).dataSync();
            for (let r2 = 0; r2 < M; r2++) for (let f = 0; f < F; f++) y[r2 * F + f] = z[r2 * F + f] + bias[f];
          }
          if (op.relu) {
            for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
          }
          acts.set(op.output, y);
          caches.push(cache);
          break;
        }
        case "dense": {
          const inDim = inS[0] * inS[1] * inS[2], U = op.units;
          const x = tf2.tensor2d(acts.get(op.input), [B, inDim]);
          const z = tf2.matMul(x, this.vars.get(`${op.name}.kernel`)).dataSync();
          const bias = this.vars.get(`${op.name}.bias`).dataSync();
          const y = new Float32Array(B * U);
          for (let r2 = 0; r2 < B; r2++) {
            for (let u = 0; u < U; u++) {
              const v = z[r2 * U + u] + bias[u];
              y[r2 * U + u] = op.relu && v < 0 ? 0 : v;
            }
          }
          acts.set(op.output, y);
          caches.push({ op, x, inDim });
          break;
        }
        case "maxpool": {
          const [h, w, c] = inS, [oh, ow] = outS;
          const x = acts.get(op.input);
          const y = new Float32Array(B * oh * ow * c), argmax = new Int32Array(y.length);
          let o = 0;
          for (let b = 0; b < B; b++) {
            for (let oy = 0; oy < oh; oy++) {
              for (let ox = 0; ox < ow; ox++) {
                for (let ci = 0; ci < c; ci++, o++) {
                  let best = -Infinity, at = -1;
                  for (let py = 0; py < op.size; py++) {
                    for (let px = 0; px < op.size; px++) {
                      const i = ((b * h + oy * op.stride + py) * w + ox * op.stride + px) * c + ci;
                      if (x[i] > best) {
                        best = x[i];
                        at = i;
                      }
                    }
                  }
                  y[o] = best;
                  argmax[o] = at;
                }
              }
            }
          }
          acts.set(op.output, y);
          caches.push({ op, argmax, inLen: x.length });
          break;
        }
        case "add": {
          const a = acts.get(op.inputs[0]), bb = acts.get(op.inputs[1]);
          const y = new Float32Array(a.length);
          for (let i = 0; i < y.length; i++) {
            const v = a[i] + bb[i];
            y[i] = op.relu && v < 0 ? 0 : v;
          }
          acts.set(op.output, y);
          caches.push({ op });
          break;
        }
        case "gap": {
          const hw = inS[0] * inS[1], c = inS[2];
          const x = acts.get(op.input);
          const y = new Float32Array(B * c);
          for (let b = 0; b < B; b++) {
            for (let p = 0; p < hw; p++) for (let ci = 0; ci < c; ci++) y[b * c + ci] += x[(b * hw + p) * c + ci];
            for (let ci = 0; ci < c; ci++) y[b * c + ci] /= hw;
          }
          acts.set(op.output, y);
          caches.push({ op });
          break;
        }
      }
    }
    const classes = arch2.classes;
    const logits = acts.get(arch2.output);
    const dlogits = new Float32Array(B * classes);
    let loss = 0;
    for (let b = 0; b < B; b++) {
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, logits[b * classes + j]);
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += Math.exp(logits[b * classes + j] - max);
      const y = labels2[b];
      loss += Math.log(sum) + max - logits[b * classes + y];
      for (let j = 0; j < classes; j++) {
        dlogits[b * classes + j] = (Math.exp(logits[b * classes + j] - max) / sum - (j === y ? 1 : 0)) / B;
      }
    }
    loss /= B;
    const dacts = /* @__PURE__ */ new Map([[arch2.output, dlogits]]);
    const grads = {};
    for (let i = caches.length - 1; i >= 0; i--) {
      const cache = caches[i];
      const op = cache.op;
      const dy = dacts.get(op.output);
      if (!dy) continue;
      dacts.delete(op.output);
      const y = acts.get(op.output);
      switch (op.op) {
        case "conv": {
          const { g, cols, xhat, invStd } = cache;
          const K = g.k * g.k * g.c, F = op.filters, M = B * g.oh * g.ow;
          const dz = op.relu ? Float32Array.from(dy, (d, j) => y[j] > 0 ? d : 0) : dy;
          if (op.batchNorm) {
            const gamma = this.vars.get(`${op.name}.gamma`).dataSync();
            const dgamma = new Float64Array(F), dbeta = new Float64Array(F);
            for (let r2 = 0; r2 < M; r2++) for (let f = 0; f < F; f++) {
              const j = r2 * F + f;
              dgamma[f] += dz[j] * xhat[j];
              dbeta[f] += dz[j];
            }
            const dpre = new Float32Array(M * F);
            for (let r2 = 0; r2 < M; r2++) {
              for (let f = 0; f < F; f++) {
                const j = r2 * F + f;
                dpre[j] = gamma[f] * invStd[f] * (dz[j] - dbeta[f] / M - xhat[j] * dgamma[f] / M);
              }
            }
            grads[`${op.name}.gamma`] = tf2.tensor1d(Float32Array.from(dgamma));
            grads[`${op.name}.beta`] = tf2.tensor1d(Float32Array.from(dbeta));
            this.convBackward(op, g, cols, dpre, M, K, F, B, grads, dacts);
          } else {
            const dbias = new Float32Array(F);
            for (let r2 = 0; r2 < M; r2++) for (let f = 0; f < F; f++) dbias[f] += dz[r2 * F + f];
            grads[`${op.name}.bias`] = tf2.tensor1d(dbias);
            this.convBackward(op, g, cols, dz, M, K, F, B, grads, dacts);
          }
          break;
        }
        case "dense": {
          const { x, inDim } = cache;
          const U = op.units;
          const dz = op.relu ? Float32Array.from(dy, (d, j) => y[j] > 0 ? d : 0) : dy;
          const dbias = new Float32Array(U);
          for (let r2 = 0; r2 < B; r2++) for (let u = 0; u < U; u++) dbias[u] += dz[r2 * U + u];
          const dZ = tf2.tensor2d(dz, [B, U]);
          grads[`${op.name}.kernel`] = tf2.matMul(tf2.transpose(x), dZ);
          grads[`${op.name}.bias`] = tf2.tensor1d(dbias);
          if (op.input !== "input") {
            const dx = tf2.matMul(dZ, tf2.transpose(this.vars.get(`${op.name}.kernel`))).dataSync();
            accumulate(dacts, op.input, dx.slice());
          }
          break;
        }
        case "maxpool": {
          const { argmax, inLen } = cache;
          const dx = new Float32Array(inLen);
          for (let o = 0; o < dy.length; o++) dx[argmax[o]] += dy[o];
          accumulate(dacts, op.input, dx);
          break;
        }
        case "add": {
          const dz = op.relu ? Float32Array.from(dy, (d, j) => y[j] > 0 ? d : 0) : dy;
          accumulate(dacts, op.inputs[0], dz.slice());
          accumulate(dacts, op.inputs[1], dz.slice());
          break;
        }
        case "gap": {
          const inS = shapes.get(op.input);
          const hw = inS[0] * inS[1], c = inS[2];
          const dx = new Float32Array(B * hw * c);
          for (let b = 0; b < B; b++) for (let p = 0; p < hw; p++) for (let ci = 0; ci < c; ci++) dx[(b * hw + p) * c + ci] = dy[b * c + ci] / hw;
          accumulate(dacts, op.input, dx);
          break;
        }
      }
    }
    return { loss, grads };
  }
  convBackward(op, g, cols, dz, M, K, F, B, grads, dacts) {
    const kernel = this.vars.get(`${op.name}.kernel`);
    const dZ = tf2.tensor2d(dz, [M, F]);
    grads[`${op.name}.kernel`] = tf2.reshape(tf2.matMul(tf2.transpose(cols), dZ), kernel.shape);
    if (op.input === "input") return;
    const dcols = tf2.matMul(dZ, tf2.transpose(tf2.reshape(kernel, [K, F]))).dataSync();
    const dx = col2im(dcols, B, g);
    accumulate(dacts, op.input, dx === dcols ? dx.slice() : dx);
  }
};
var uid = 0;
function trainCnnMember(spec2, data, onProgress, observe) {
  const started = performance.now();
  const { arch: arch2, batchSize: B } = spec2;
  const net = new ArchNet(arch2, initArchWeights(arch2, spec2.seed), `${spec2.seed}_${uid++}`);
  const prunable = paramSpecs(arch2).filter((p) => p.prunable).map((p) => p.name);
  const optimizer = tf2.train.adam(spec2.learningRate);
  const stepsPerEpoch = Math.max(1, Math.floor(data.n / B));
  const totalSteps = stepsPerEpoch * spec2.epochs;
  const schedule = spec2.sparsity > 0 ? {
    target: spec2.sparsity,
    begin: Math.round(spec2.pruning.begin * totalSteps),
    end: Math.max(Math.round(spec2.pruning.begin * totalSteps) + 1, Math.round(spec2.pruning.end * totalSteps)),
    frequency: spec2.pruning.frequency
  } : null;
  const masks = /* @__PURE__ */ new Map();
  const rand = mulberry32(spec2.seed ^ 2654435769);
  const [h, w, c] = arch2.input;
  const inDim = h * w * c;
  const xs = new Float32Array(B * inDim);
  const ys = new Int32Array(B);
  let step = 0, finalLoss = NaN;
  const updateMasks = (s) => {
    for (const name of prunable) {
      const v = net.vars.get(name);
      const m = magnitudeMask(v.dataSync(), s);
      masks.get(name)?.dispose();
      const mask = tf2.keep(tf2.tensor(m, v.shape));
      masks.set(name, mask);
      v.assign(tf2.mul(v, mask));
    }
  };
  for (let epoch = 0; epoch < spec2.epochs; epoch++) {
    const order = permutation(data.n, rand);
    for (let s = 0; s < stepsPerEpoch; s++, step++) {
      for (let j = 0; j < B; j++) {
        const idx = order[(s * B + j) % data.n];
        xs.set(data.images.subarray(idx * inDim, (idx + 1) * inDim), j * inDim);
        ys[j] = data.labels[idx];
      }
      const maskUpdated = !!schedule && isMaskUpdateStep(step, schedule);
      if (maskUpdated) tf2.tidy(() => updateMasks(sparsityAt(step, schedule)));
      const loss = tf2.tidy(() => {
        const { loss: loss2, grads } = net.gradients(xs, ys, B, true);
        optimizer.applyGradients(Object.entries(grads).map(([k, tensor2]) => ({ name: net.vars.get(k).name, tensor: tensor2 })));
        for (const [name, m] of masks) net.vars.get(name).assign(tf2.mul(net.vars.get(name), m));
        return loss2;
      });
      finalLoss = loss;
      if (s % 50 === 0 || s === stepsPerEpoch - 1) onProgress?.((step + 1) * B, loss);
      observe?.({ step, maskUpdated, weights: prunable.map((n2) => net.read(n2)) });
    }
  }
  if (schedule) tf2.tidy(() => updateMasks(schedule.target));
  const weights = net.weights();
  net.dispose();
  for (const m of masks.values()) m.dispose();
  optimizer.dispose();
  return {
    weights,
    steps: totalSteps,
    examples: totalSteps * B,
    seconds: (performance.now() - started) / 1e3,
    finalLoss,
    schedule,
    layerSparsity: prunable.map((n2) => measuredSparsity(weights.params[n2])),
    prunable
  };
}

// scratch-prof/p.ts
await initEngine("wasm");
var n = 1280;
var images = new Float32Array(n * 784).map(() => Math.random());
var labels = new Uint8Array(n).map((_, i) => i % 10);
var arch = lenet5Arch([28, 28, 1], 10);
var spec = { level: "x", member: 0, seed: 1, arch, sparsity: 0, epochs: 1, batchSize: 128, learningRate: 1e-3, pruning: { begin: 0.1, end: 0.7, frequency: 50 } };
trainCnnMember(spec, { images, labels, n });
var r = trainCnnMember({ ...spec, epochs: 2 }, { images, labels, n });
console.log("ex/s", r.examples / r.seconds);
