/**
 * Image input: decoding (PNG, JPEG with EXIF orientation), Pillow-exact
 * resampling, and the Idefics3/MobileVLM tiling and normalisation.
 *
 * @module
 */
export { createRgbImage, cropRgb, type RgbImage } from "./raster.ts";
export { type ImageFormat, type ImageHeader, readImageHeader } from "./sniff.ts";
export { decodeImage, type DecodeOptions, DEFAULT_MAX_PIXELS } from "./decode.ts";
export { initJpegDecoder } from "./jpeg_wasm.ts";
export { resizeRgb } from "./resample.ts";
export { applyOrientation, type Orientation, readJpegOrientation } from "./exif_orientation.ts";
export {
  normalizeTiles,
  padToSquare,
  type ProcessedImage,
  tileImage,
  type TileImageOptions,
} from "./processor.ts";
export { type ImageSource, type ReadImageOptions, readImageSource } from "./source.ts";
