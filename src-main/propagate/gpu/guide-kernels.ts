// WGSL compute kernels for the per-frame propagation guides (the CPU reference is
// native/src/flow/flow.cc: OcclusionMask, Warp, FillHoles, EdgeGuide, AdvectNnf, Bilinear).
// Every kernel is a gather (each invocation writes only its own pixel), so two runs give identical
// results. The arithmetic follows the C++ term by term, in f32, so most results match bit for bit;
// what may differ is the GPU's division and fused multiply-adds, a few ulps.
//
// Storage is bound as u32 words and read as f32 through bitcast: NNF integers viewed as f32 are
// denormals, which a GPU may flush to zero, so they must never pass through a float register.
import { paramLayout } from './params.ts';

/** Per-dispatch parameters, struct P of every guide kernel. */
export const GUIDE_PARAMS = paramLayout({
  W: 'u32', H: 'u32', C: 'u32', flags: 'u32',
  o0: 'u32', o1: 'u32', oOut: 'u32',
  cw: 'u32', ch: 'u32', fOff: 'u32', cOff: 'u32',
  fw: 'u32', fh: 'u32',
});

/** Bits of P.flags. */
export const FLAG = {
  /** in0 is the output buffer: read it through the writable binding (WebGPU forbids aliasing). */
  in0FromOut: 1,
  in1FromOut: 2,
  nearest: 4,
  /** Round to whole numbers and clamp to 0..255, as the addon makes a u8 result (lround). */
  round: 8,
  /** fillDown: the fine level is the image itself (weights from the mask), not the scratch. */
  fromImage: 16,
  /** fillFinal: the image is 1x1, there is no coarser level (holes become 0, as on the CPU). */
  noCoarse: 32,
} as const;

export const ENTRY_POINTS = ['unpackRgb', 'edge', 'occlusion', 'warp', 'advectNnf', 'fillDown', 'fillUp', 'fillFinal'] as const;

export const guideWgsl = `${GUIDE_PARAMS.wgsl}@group(0) @binding(1) var<storage, read> in0: array<u32>;
@group(0) @binding(2) var<storage, read> in1: array<u32>;
@group(0) @binding(3) var<storage, read_write> outb: array<u32>;
// The fill pyramid, levels 1.. at element offsets; per pixel C premultiplied values then the weight.
@group(0) @binding(4) var<storage, read_write> scr: array<f32>;

fn rd0(i: u32) -> u32 {
  if ((p.flags & ${FLAG.in0FromOut}u) != 0u) { return outb[p.o0 + i]; }
  return in0[p.o0 + i];
}
fn rd1(i: u32) -> u32 {
  if ((p.flags & ${FLAG.in1FromOut}u) != 0u) { return outb[p.o1 + i]; }
  return in1[p.o1 + i];
}
fn f0(i: u32) -> f32 { return bitcast<f32>(rd0(i)); }
fn f1(i: u32) -> f32 { return bitcast<f32>(rd1(i)); }
fn fetch(which: u32, i: u32) -> f32 {
  if (which == 0u) { return f0(i); }
  return f1(i);
}
fn put(i: u32, v: f32) { outb[p.oOut + i] = bitcast<u32>(v); }

// std::lround: halves away from zero (WGSL's round() goes to even).
fn lround(v: f32) -> f32 {
  let a = abs(v);
  var r = floor(a);
  if (a - r >= 0.5) { r = r + 1.0; }
  return select(r, -r, v < 0.0);
}
fn finish(v: f32) -> f32 {
  if ((p.flags & ${FLAG.round}u) != 0u) { return clamp(lround(v), 0.0, 255.0); }
  return v;
}
// The addon's nearest source pixel: clamp(int(lround(x + f)), 0, side - 1).
fn nearestOf(v: f32, side: u32) -> u32 {
  return u32(clamp(i32(lround(v)), 0, i32(side) - 1));
}

// flow.cc Bilinear, channel k of a W x H x C image read through fetch(which, .).
fn bilinear(which: u32, xIn: f32, yIn: f32, C: u32, k: u32) -> f32 {
  let x = clamp(xIn, 0.0, f32(p.W - 1u));
  let y = clamp(yIn, 0.0, f32(p.H - 1u));
  let x0 = u32(x); let y0 = u32(y);
  let x1 = min(x0 + 1u, p.W - 1u); let y1 = min(y0 + 1u, p.H - 1u);
  let ax = x - f32(x0); let ay = y - f32(y0);
  let a = fetch(which, (y0 * p.W + x0) * C + k);
  let b = fetch(which, (y0 * p.W + x1) * C + k);
  let c = fetch(which, (y1 * p.W + x0) * C + k);
  let d = fetch(which, (y1 * p.W + x1) * C + k);
  return (1.0 - ay) * ((1.0 - ax) * a + ax * b) + ay * ((1.0 - ax) * c + ax * d);
}

// RGB bytes packed 4 per word (little-endian) -> f32 image; in0 holds the words.
@compute @workgroup_size(8, 8)
fn unpackRgb(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let i = g.y * p.W + g.x;
  for (var k = 0u; k < 3u; k++) {
    let j = i * 3u + k;
    put(j, f32((rd0(j >> 2u) >> ((j & 3u) * 8u)) & 0xffu));
  }
}

// EdgeGuide: 128 + 3x3 Laplacian (clamped at the borders), clamped to 0..255.
@compute @workgroup_size(8, 8)
fn edge(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let C = p.C;
  let xl = select(g.x - 1u, 0u, g.x == 0u); let xr = min(g.x + 1u, p.W - 1u);
  let yu = select(g.y - 1u, 0u, g.y == 0u); let yd = min(g.y + 1u, p.H - 1u);
  let i = g.y * p.W + g.x;
  for (var k = 0u; k < C; k++) {
    let c = f0(i * C + k);
    let l = f0((g.y * p.W + xl) * C + k);
    let r = f0((g.y * p.W + xr) * C + k);
    let u = f0((yu * p.W + g.x) * C + k);
    let d = f0((yd * p.W + g.x) * C + k);
    put(i * C + k, finish(clamp(128.0 + 4.0 * c - l - r - u - d, 0.0, 255.0)));
  }
}

// OcclusionMask: in0 the flow, in1 the other direction's flow; 255 where the round trip fails.
@compute @workgroup_size(8, 8)
fn occlusion(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let i = g.y * p.W + g.x;
  let fx = f0(2u * i); let fy = f0(2u * i + 1u);
  let qx = f32(g.x) + fx; let qy = f32(g.y) + fy;
  var occ = 255.0;
  if (qx >= 0.0 && qy >= 0.0 && qx <= f32(p.W - 1u) && qy <= f32(p.H - 1u)) {
    let ox = bilinear(1u, qx, qy, 2u, 0u);
    let oy = bilinear(1u, qx, qy, 2u, 1u);
    let sx = fx + ox; let sy = fy + oy;
    let lhs = sx * sx + sy * sy;
    let rhs = 0.01 * (fx * fx + fy * fy + ox * ox + oy * oy) + 0.5;
    occ = select(0.0, 255.0, lhs > rhs);
  }
  put(i, occ);
}

// Warp: out(p) = in0(p + in1(p)), bilinear or nearest.
@compute @workgroup_size(8, 8)
fn warp(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let C = p.C;
  let i = g.y * p.W + g.x;
  let sx = f32(g.x) + f1(2u * i); let sy = f32(g.y) + f1(2u * i + 1u);
  if ((p.flags & ${FLAG.nearest}u) != 0u) {
    let j = nearestOf(sy, p.H) * p.W + nearestOf(sx, p.W);
    for (var k = 0u; k < C; k++) { put(i * C + k, finish(f0(j * C + k))); }
  } else {
    for (var k = 0u; k < C; k++) { put(i * C + k, finish(bilinear(0u, sx, sy, C, k))); }
  }
}

// AdvectNnf: in0 the NNF (x, y) pairs, in1 the flow; each pixel keeps the match of p + f.
@compute @workgroup_size(8, 8)
fn advectNnf(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let i = g.y * p.W + g.x;
  let sx = nearestOf(f32(g.x) + f1(2u * i), p.W);
  let sy = nearestOf(f32(g.y) + f1(2u * i + 1u), p.H);
  let j = sy * p.W + sx;
  outb[p.oOut + 2u * i] = rd0(2u * j);
  outb[p.oOut + 2u * i + 1u] = rd0(2u * j + 1u);
}

// FillHoles push: one coarse cell (cw x ch at cOff) from its up to 4 fine children (fw x fh), summed
// in the CPU's order, then normalised to a premultiplied average with the weight capped at 1.
// The fine level is the image (in0) with weights from the mask (in1) when fromImage, else scr at fOff.
@compute @workgroup_size(8, 8)
fn fillDown(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.cw || g.y >= p.ch) { return; }
  let C = p.C; let S = C + 1u;
  let ci = p.cOff + (g.y * p.cw + g.x) * S;
  var w = 0.0;
  for (var k = 0u; k < C; k++) { scr[ci + k] = 0.0; }
  for (var dy = 0u; dy < 2u; dy++) {
    let fy = 2u * g.y + dy;
    if (fy >= p.fh) { break; }
    for (var dx = 0u; dx < 2u; dx++) {
      let fx = 2u * g.x + dx;
      if (fx >= p.fw) { break; }
      let fi = fy * p.fw + fx;
      if ((p.flags & ${FLAG.fromImage}u) != 0u) {
        let fw = select(1.0, 0.0, f1(fi) != 0.0);
        w += fw;
        for (var k = 0u; k < C; k++) { scr[ci + k] += f0(fi * C + k) * fw; }
      } else {
        let f = p.fOff + fi * S;
        w += scr[f + C];
        for (var k = 0u; k < C; k++) { scr[ci + k] += scr[f + k]; }
      }
    }
  }
  if (w > 0.0) {
    let s = min(1.0, w) / w;
    for (var k = 0u; k < C; k++) { scr[ci + k] *= s; }
    w = min(1.0, w);
  }
  scr[ci + C] = w;
}

// FillHoles pull, for a scratch level (fw x fh at fOff) from the coarser one (cw x ch at cOff).
@compute @workgroup_size(8, 8)
fn fillUp(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.fw || g.y >= p.fh) { return; }
  let C = p.C; let S = C + 1u;
  let f = p.fOff + (g.y * p.fw + g.x) * S;
  let c = p.cOff + ((g.y / 2u) * p.cw + g.x / 2u) * S;
  let missing = 1.0 - scr[f + C];
  if (missing <= 0.0) { return; }
  let cwt = scr[c + C];
  let inv = select(0.0, 1.0 / cwt, cwt > 0.0);
  for (var k = 0u; k < C; k++) { scr[f + k] += missing * scr[c + k] * inv; }
  scr[f + C] = 1.0;
}

// FillHoles output: the image where the mask is 0, the pull from level 1 (cw x ch at cOff) in holes.
@compute @workgroup_size(8, 8)
fn fillFinal(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.W || g.y >= p.H) { return; }
  let C = p.C; let S = C + 1u;
  let i = g.y * p.W + g.x;
  if (f1(i) == 0.0) {
    for (var k = 0u; k < C; k++) { put(i * C + k, finish(f0(i * C + k))); }
    return;
  }
  if ((p.flags & ${FLAG.noCoarse}u) != 0u) {
    for (var k = 0u; k < C; k++) { put(i * C + k, 0.0); }
    return;
  }
  let c = p.cOff + ((g.y / 2u) * p.cw + g.x / 2u) * S;
  let cwt = scr[c + C];
  let inv = select(0.0, 1.0 / cwt, cwt > 0.0);
  for (var k = 0u; k < C; k++) { put(i * C + k, finish(0.0 + 1.0 * scr[c + k] * inv)); }
}
`;
