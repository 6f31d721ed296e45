// Interleaved images as the native addon takes them. Float images are on a 0..1 scale.
export interface ByteImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface FloatImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export type Image = ByteImage | FloatImage;

export function rgb(data: Uint8Array, width: number, height: number): ByteImage {
  return { data, width, height, channels: 3 };
}

/** A 2-channel map of each pixel's own coordinates, x / width and y / height (0..1). */
export function coordinateMap(width: number, height: number): FloatImage {
  const data = new Float32Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 2;
      data[i] = (x + 0.5) / width;
      data[i + 1] = (y + 0.5) / height;
    }
  }
  return { data, width, height, channels: 2 };
}

/** Identity field, (x, y) per pixel: a key frame matches itself. */
export function identityNnf(width: number, height: number): Int32Array {
  const nnf = new Int32Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      nnf[(y * width + x) * 2] = x;
      nnf[(y * width + x) * 2 + 1] = y;
    }
  }
  return nnf;
}
