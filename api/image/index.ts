/**
 * Uploaded images → model input, runtime-neutral (Workers and Node; pure-JS codecs, no Buffer):
 *
 *   PNG / JPEG bytes ──decodeImage──▶ DecodedImage (luminance, alpha over black) ──toModelInput──▶
 *   { pixels: uint8[784], input: float32[784], steps }
 *   JSON pixels ──fromPixelArray──▶ DecodedImage
 *   uint8 luminance ──encodePng──▶ greyscale PNG (optionally enlarged for display)
 *
 * Bad input always surfaces as an `ImageError` with a `code`; limits are checked from headers.
 */
export { ImageError, IMAGE_ERROR_STATUS, type ImageErrorCode } from './errors.ts';
export { DEFAULT_LIMITS, type DecodedImage, type ImageLimits } from './types.ts';
export { decodeImage, isJpeg, isPng } from './decode.ts';
export {
  toModelInput, borderMean, IMAGE_SIDE, IMAGE_PIXELS,
  type ModelInput, type PreprocessOptions, type PreprocessSteps, type Polarity,
} from './preprocess.ts';
export { fromPixelArray, type PixelArrayBody, type PixelImage, type PixelScale } from './pixels.ts';
export { encodePng } from './encode.ts';
