/**
 * Why an uploaded image was refused:
 * - `empty_body`: no bytes at all;
 * - `unsupported_format`: not a PNG or JPEG (or a JPEG variant the decoder lacks);
 * - `image_too_large`: over a byte, size or decoder-memory limit, found from the header alone;
 * - `undecodable_image`: looks like PNG/JPEG but is truncated or corrupt;
 * - `invalid_pixels`: a JSON pixel array of the wrong shape, type or range.
 */
export type ImageErrorCode =
  | 'empty_body'
  | 'unsupported_format'
  | 'image_too_large'
  | 'undecodable_image'
  | 'invalid_pixels';

/** The HTTP status each code stands for, so one `onError` can map them. */
export const IMAGE_ERROR_STATUS = {
  empty_body: 400,
  unsupported_format: 415,
  image_too_large: 413,
  undecodable_image: 422,
  invalid_pixels: 422,
} as const satisfies Record<ImageErrorCode, number>;

/** The one error this module throws for bad input; a codec's own error is kept as `cause`. */
export class ImageError extends Error {
  override name = 'ImageError';
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get status(): number {
    return IMAGE_ERROR_STATUS[this.code];
  }
}
