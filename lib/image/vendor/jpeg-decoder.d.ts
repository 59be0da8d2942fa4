/** Types of the vendored jpeg-js decoder (see jpeg-decoder.js): jpeg-js's own, plus `dcOnly`. */
export interface DecodeOptions {
  useTArray?: boolean;
  formatAsRGBA?: boolean;
  colorTransform?: boolean;
  tolerantDecoding?: boolean;
  maxResolutionInMP?: number;
  maxMemoryUsageInMB?: number;
  /** Decode at 1/8 scale (ceil(width / 8) × ceil(height / 8)): each 8×8 block's mean, from its DC term alone. */
  dcOnly?: boolean;
}
export function decode(data: Uint8Array, opts: DecodeOptions & { useTArray: true }): { width: number; height: number; data: Uint8Array };
