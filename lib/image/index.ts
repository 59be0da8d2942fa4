/**
 * Image files → model input, runtime-neutral (Workers and Node; pure-JS codecs, no Buffer); the
 * trainer uses it for image-folder datasets and the API for uploads, so both see the same pixels:
 *
 *   PNG / JPEG bytes ──decodeImage──▶ DecodedImage (luminance [+ RGB], alpha over black) ──toModelInput──▶
 *   { pixels: uint8[h × w × c], input: float32[h × w × c], steps }
 *   JSON pixels ──fromPixelArray──▶ DecodedImage
 *   uint8 luminance or RGB ──encodePng──▶ PNG (optionally enlarged for display)
 *
 * Bad input always surfaces as an `ImageError` with a `code`; limits are checked from headers.
 */
export { ImageError, IMAGE_ERROR_STATUS, type ImageErrorCode } from './errors.ts';
export { DEFAULT_LIMITS, type DecodedImage, type DecodeOptions, type ImageLimits } from './types.ts';
export { decodeImage, isJpeg, isPng } from './decode.ts';
export {
  toModelInput, borderMean, autoInverts, datasetPolarityOf, IMAGE_SIDE, IMAGE_PIXELS,
  type DatasetPolarity, type ModelInput, type PreprocessOptions, type PreprocessSteps, type Polarity,
} from './preprocess.ts';
export { checkPixelBodySize, fromPixelArray, type PixelArrayBody, type PixelImage, type PixelScale } from './pixels.ts';
export { encodePng } from './encode.ts';
