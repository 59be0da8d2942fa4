/** Brightness and contrast: deterministic, no randomness. */
import { type CorruptFn, fromUnit, toUnit } from './image.ts';

/**
 * brightness — in HSV, V' = clip(V + c) with hue and saturation kept. Mu & Gilmer 2019, MNIST-C
 * corruptions.py: c = [0.1, 0.2, 0.3, 0.4, 0.5] (the dataset uses severity 5); MNIST-C goes
 * gray → RGB → HSV → RGB → gray, which for one channel is x' = clip(x + c). For colour, keeping
 * H and S while V = max(r, g, b) changes scales every channel by V'/V (ImageNet-C's brightness
 * with MNIST-C's c); black (S = 0) becomes gray V' = c.
 */
export const BRIGHTNESS = [0.1, 0.2, 0.3, 0.4, 0.5];
export const brightness: CorruptFn = (image, severity) => {
  const c = BRIGHTNESS[severity - 1];
  const x = toUnit(image);
  if (image.channels === 1) {
    for (let i = 0; i < x.length; i++) x[i] += c;
    return fromUnit(x, image);
  }
  for (let i = 0; i < x.length; i += 3) {
    const v = Math.max(x[i], x[i + 1], x[i + 2]);
    const v2 = Math.min(1, v + c);
    if (v === 0) {
      x[i] = x[i + 1] = x[i + 2] = v2;
    } else {
      const k = v2 / v;
      x[i] *= k; x[i + 1] *= k; x[i + 2] *= k;
    }
  }
  return fromUnit(x, image);
};

/**
 * contrast — x' = clip((x − μ)·c + μ), μ the image's mean per channel. Hendrycks & Dietterich
 * 2019, CIFAR-10-C table (make_cifar_c.py): c = [0.75, 0.5, 0.4, 0.3, 0.15]. (MNIST-C's code has
 * [0.4, 0.3, 0.2, 0.1, 0.05] but leaves contrast out of its dataset.)
 */
export const CONTRAST = [0.75, 0.5, 0.4, 0.3, 0.15];
export const contrast: CorruptFn = (image, severity) => {
  const c = CONTRAST[severity - 1];
  const x = toUnit(image);
  const ch = image.channels;
  const n = image.height * image.width;
  for (let k = 0; k < ch; k++) {
    let sum = 0;
    for (let i = k; i < x.length; i += ch) sum += x[i];
    const mean = sum / n;
    for (let i = k; i < x.length; i += ch) x[i] = (x[i] - mean) * c + mean;
  }
  return fromUnit(x, image);
};
