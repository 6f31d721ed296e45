// ControlNet's HED soft-edge annotator (ControlNetHED_Apache2, the network of
// lllyasviel/Annotators' ControlNetHED.pth, as in controlnet-aux): five VGG-like
// blocks of 3×3 conv + ReLU, each projected to one edge logit map; the maps are
// resized to the input (bilinear, as cv2.INTER_LINEAR), averaged and passed
// through a sigmoid — the whole of HEDdetector's post-processing but the ×255.
import { conv2d, fromF32, toF32, weight } from './layers.ts';
import type { LayerContext } from './layers.ts';

export const HED_BLOCKS = 5;

/** Convolutions per block, read from the weights (2, 2, 3, 3, 3 in ControlNetHED.pth). */
function convCount(ctx: LayerContext, block: number): number {
  let n = 0;
  while (ctx.w.has(`block${block}.convs.${n}.weight`)) n++;
  return n;
}

/**
 * Input `image` [1, 3, H, W]: RGB 0..255 (not BGR, not normalised: the network subtracts its own
 * `norm`). Output `edge` [1, 1, H, W] in (0, 1). Any H, W ≥ 16 (four 2×2 max-pools, floored).
 */
export function buildHed(ctx: LayerContext): void {
  const b = ctx.b;
  const image = b.input('image', ['batch', 3, 'height', 'width']);
  // Side outputs go back to the input's size: Resize by `sizes` read from the input at run time.
  const shape = b.op1('Shape', [image]);
  const size = b.op1('Concat', [b.op1('Slice', [shape, b.constInt64([0]), b.constInt64([1])]), b.constInt64([1]), b.op1('Slice', [shape, b.constInt64([2]), b.constInt64([4])])], { axis: { i: 0 } });
  let h = fromF32(ctx, b.op1('Sub', [image, weight(ctx, 'norm', { keepFloat32: true })]));
  const sides: string[] = [];
  for (let i = 1; i <= HED_BLOCKS; i++) {
    const convs = convCount(ctx, i);
    if (convs === 0) ctx.w.get(`block${i}.convs.0.weight`); // throws the MissingWeightError naming it
    if (i > 1) h = b.op1('MaxPool', [h], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
    for (let c = 0; c < convs; c++) h = b.op1('Relu', [conv2d(ctx, h, `block${i}.convs.${c}`)]);
    const side = toF32(ctx, conv2d(ctx, h, `block${i}.projection`));
    // cv2.INTER_LINEAR upscaling = half-pixel linear with edge clamping (no antialiasing).
    sides.push(i === 1 ? side : b.op1('Resize', [side, '', '', size], {
      mode: { s: 'linear' },
      coordinate_transformation_mode: { s: 'half_pixel' },
    }));
  }
  const mean = b.op1('Mul', [b.op1('Sum', sides), b.constFloat([1 / HED_BLOCKS], [], { float32: true })]);
  b.output(b.op1('Sigmoid', [mean]), 'edge', ['batch', 1, 'height', 'width']);
}
