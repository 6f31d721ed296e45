// WGSL compute kernels for GPU patch synthesis (the CPU reference is native/src/synth). Every
// kernel is a gather (each invocation writes only its own outputs) or integer atomics, so results
// never depend on scheduling: two runs give identical bytes.
import { paramLayout } from './params.ts';
import type { ParamValues } from './params.ts';

/** Per-dispatch parameters, struct P of every synthesis kernel. */
export const SYNTH_PARAMS = paramLayout({
  sw: 'i32', sh: 'i32', tw: 'i32', th: 'i32',
  ps: 'i32', r: 'i32', k: 'i32', cs: 'i32',
  inW: 'i32', inH: 'i32', inBase: 'i32', inC: 'i32',
  outW: 'i32', outH: 'i32', outStride: 'i32', outOff: 'i32',
  seed: 'u32', level: 'i32', iter: 'i32', jump: 'i32',
  flags: 'u32', maxRadius: 'i32', dir: 'i32', fw: 'i32',
  fh: 'i32', fsw: 'i32', fsh: 'i32', mode: 'i32',
  scale: 'f32', lambda: 'f32', omegaBest: 'f32', area: 'f32',
  stopThr: 'f32', conv: 'f32',
});
export type Params = ParamValues<typeof SYNTH_PARAMS.fields>;

export const FLAG_SKIP_FROZEN = 1;
export const FLAG_WEIGHTED = 2;
export const FLAG_COMPUTE_FROZEN = 4;

const header = SYNTH_PARAMS.wgsl;

// Counter-based RNG: a stream per (seed, level, iteration, pixel), so evaluation order is irrelevant.
const rng = `
fn mix32(x: u32) -> u32 {
  var v = x;
  v ^= v >> 16u; v *= 0x7feb352du; v ^= v >> 15u; v *= 0x846ca68bu; v ^= v >> 16u;
  return v;
}
var<private> rs: u32;
fn rngInit(seed: u32, level: i32, iter: i32, pix: u32) {
  rs = mix32(mix32(mix32(mix32(seed) ^ (u32(level) * 0x632be59bu)) ^ (u32(iter) * 0x85ebca6bu)) ^ pix);
}
fn rngNext() -> u32 { rs += 0x9e3779b9u; return mix32(rs); }
// Uniform integer in [lo, hi] (24 random bits: ranges here are far smaller).
fn rngRange(lo: i32, hi: i32) -> i32 {
  let n = hi - lo + 1;
  return lo + min(i32(f32(rngNext() >> 8u) * (f32(n) / 16777216.0)), n - 1);
}
`;

/**
 * Area-averaged resize (what cv::INTER_AREA does when shrinking): each output pixel averages the
 * input pixels its footprint covers, weighted by the covered fraction. Writes channels
 * [outOff, outOff + inC) of an interleaved buffer with outStride floats per pixel, times scale.
 */
export const downscaleWgsl = `${header}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.outW || y >= p.outH) { return; }
  let sx = f32(p.inW) / f32(p.outW);
  let sy = f32(p.inH) / f32(p.outH);
  let fx0 = f32(x) * sx; let fx1 = min(fx0 + sx, f32(p.inW));
  let fy0 = f32(y) * sy; let fy1 = min(fy0 + sy, f32(p.inH));
  let ix0 = i32(floor(fx0)); let ix1 = min(i32(ceil(fx1)), p.inW);
  let iy0 = i32(floor(fy0)); let iy1 = min(i32(ceil(fy1)), p.inH);
  var acc: array<f32, 8>;
  var wsum = 0.0;
  for (var iy = iy0; iy < iy1; iy++) {
    let wy = min(f32(iy + 1), fy1) - max(f32(iy), fy0);
    if (wy <= 0.0) { continue; }
    for (var ix = ix0; ix < ix1; ix++) {
      let w = wy * (min(f32(ix + 1), fx1) - max(f32(ix), fx0));
      if (w <= 0.0) { continue; }
      let b = p.inBase + (iy * p.inW + ix) * p.inC;
      for (var c = 0; c < p.inC; c++) { acc[c] += w * src[b + c]; }
      wsum += w;
    }
  }
  let o = (y * p.outW + x) * p.outStride + p.outOff;
  for (var c = 0; c < p.inC; c++) { dst[o + c] = acc[c] / wsum * p.scale; }
}
`;

/**
 * Starting field, clamped so source patches lie inside the source. mode 0: random; mode 1: the
 * coarser level's field upsampled (each fine pixel inherits its parent's match, offset by its
 * position inside the parent); mode 2: a finest-level field (initNnf) brought down to this level.
 */
export const initWgsl = `${header}${rng}
@group(0) @binding(1) var<storage, read> fin: array<vec2i>;
@group(0) @binding(2) var<storage, read_write> fout: array<vec2i>;
// round(a / b) half away from zero, for b > 0 (std::lround of the CPU code, in exact integers).
fn rdiv(a: i32, b: i32) -> i32 {
  if (a >= 0) { return (2 * a + b) / (2 * b); }
  return -((-2 * a + b) / (2 * b));
}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  let i = y * p.tw + x;
  var v: vec2i;
  if (p.mode == 0) {
    rngInit(p.seed, p.level, -1, u32(i));
    v.x = rngRange(p.r, p.sw - 1 - p.r);
    v.y = rngRange(p.r, p.sh - 1 - p.r);
  } else if (p.mode == 1) {
    let cx = min(p.fw - 1, x * p.fw / p.tw);
    let cy = min(p.fh - 1, y * p.fh / p.th);
    let c = fin[cy * p.fw + cx];
    v.x = rdiv(c.x * p.sw, p.fsw) + (x - rdiv(cx * p.tw, p.fw));
    v.y = rdiv(c.y * p.sh, p.fsh) + (y - rdiv(cy * p.th, p.fh));
  } else {
    let fx = min(p.fw - 1, ((2 * x + 1) * p.fw) / (2 * p.tw));
    let fy = min(p.fh - 1, ((2 * y + 1) * p.fh) / (2 * p.th));
    let c = fin[fy * p.fw + fx];
    v.x = rdiv(c.x * p.sw, p.fsw);
    v.y = rdiv(c.y * p.sh, p.fsh);
  }
  fout[i] = vec2i(clamp(v.x, p.r, p.sw - 1 - p.r), clamp(v.y, p.r, p.sh - 1 - p.r));
}
`;

// Patch SSD between the source patch centred at (cx, cy) (always inside) and the target patch at
// (x, y) (border replicated), stopping after the first row that reaches bound.
const ssd = `
fn patchSsd(cx: i32, cy: i32, x: i32, y: i32, bound: f32) -> f32 {
  var acc = 0.0;
  for (var dy = 0; dy < p.ps; dy++) {
    let sy = cy - p.r + dy;
    let ty = clamp(y - p.r + dy, 0, p.th - 1);
    for (var dx = 0; dx < p.ps; dx++) {
      let sb = (sy * p.sw + cx - p.r + dx) * p.k;
      let tb = (ty * p.tw + clamp(x - p.r + dx, 0, p.tw - 1)) * p.k;
      for (var c = 0; c < p.k; c++) {
        let d = srcF[sb + c] - tgtF[tb + c];
        acc += dot(d, d);
      }
    }
    if (acc >= bound) { return acc; }
  }
  return acc;
}
`;

/** Per-pixel patch SSD of the current field; frozen pixels keep their value when flagged. */
export const evalErrWgsl = `${header}
@group(0) @binding(1) var<storage, read> srcF: array<vec4f>;
@group(0) @binding(2) var<storage, read> tgtF: array<vec4f>;
@group(0) @binding(3) var<storage, read> nnf: array<vec2i>;
@group(0) @binding(4) var<storage, read_write> err: array<f32>;
@group(0) @binding(5) var<storage, read> frozen: array<u32>;
${ssd}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  let i = y * p.tw + x;
  if ((p.flags & ${FLAG_SKIP_FROZEN}u) != 0u && frozen[i] != 0u) { return; }
  let m = nnf[i];
  err[i] = patchSsd(m.x, m.y, x, y, 3.0e38);
}
`;

/** Occupancy counts: how many target pixels currently map to each source pixel (integer atomics). */
export const countWgsl = `${header}
@group(0) @binding(1) var<storage, read> nnf: array<vec2i>;
@group(0) @binding(2) var<storage, read_write> cnt: array<atomic<u32>>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  let m = nnf[y * p.tw + x];
  atomicAdd(&cnt[m.y * p.sw + m.x], 1u);
}
`;

/**
 * A (2r+1)^2 box sum over the source grid, zero outside (run twice: box(count) is EbSynth's Omega,
 * box(Omega) its sum over a patch). dir 1 also zeroes `zero`, the count buffer, for the next pass.
 */
export const boxWgsl = `${header}
@group(0) @binding(1) var<storage, read> bin: array<u32>;
@group(0) @binding(2) var<storage, read_write> bout: array<u32>;
@group(0) @binding(3) var<storage, read_write> zero: array<u32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.sw || y >= p.sh) { return; }
  var s = 0u;
  for (var ky = max(0, y - p.r); ky <= min(p.sh - 1, y + p.r); ky++) {
    for (var kx = max(0, x - p.r); kx <= min(p.sw - 1, x + p.r); kx++) { s += bin[ky * p.sw + kx]; }
  }
  bout[y * p.sw + x] = s;
  if (p.dir == 1) { zero[y * p.sw + x] = 0u; }
}
`;

/**
 * One PatchMatch pass, Jacobi style: every pixel reads its neighbours' matches from the pass's
 * input field (distance 1 and a jump distance, both sides, so matches spread fast in parallel),
 * then random search around its best with a halving radius. The cost adds EbSynth's uniformity
 * term: lambda * (patch sum of source occupancy) / area / (expected occupancy).
 */
export const patchMatchWgsl = `${header}${rng}
@group(0) @binding(1) var<storage, read> srcF: array<vec4f>;
@group(0) @binding(2) var<storage, read> tgtF: array<vec4f>;
@group(0) @binding(3) var<storage, read> fin: array<vec2i>;
@group(0) @binding(4) var<storage, read_write> fout: array<vec2i>;
@group(0) @binding(5) var<storage, read_write> err: array<f32>;
@group(0) @binding(6) var<storage, read> frozen: array<u32>;
@group(0) @binding(7) var<storage, read> occ: array<u32>;
${ssd}
var<private> bx: i32;
var<private> by: i32;
var<private> bestErr: f32;
var<private> bestCost: f32;
fn occOf(cx: i32, cy: i32) -> f32 {
  if (p.lambda <= 0.0) { return 0.0; }
  return f32(occ[cy * p.sw + cx]) / p.area / p.omegaBest * p.lambda;
}
fn tryPatch(cx: i32, cy: i32, x: i32, y: i32) {
  if (cx == bx && cy == by) { return; }
  let o = occOf(cx, cy);
  let bound = bestCost - o;
  if (bound <= 0.0) { return; }
  let e = patchSsd(cx, cy, x, y, bound);
  if (e >= bound) { return; }
  bx = cx; by = cy; bestErr = e; bestCost = e + o;
}
fn tryNeighbour(nx: i32, ny: i32, x: i32, y: i32) {
  if (nx < 0 || ny < 0 || nx >= p.tw || ny >= p.th) { return; }
  let m = fin[ny * p.tw + nx];
  tryPatch(clamp(m.x + x - nx, p.r, p.sw - 1 - p.r), clamp(m.y + y - ny, p.r, p.sh - 1 - p.r), x, y);
}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  let i = y * p.tw + x;
  let cur = fin[i];
  if ((p.flags & ${FLAG_SKIP_FROZEN}u) != 0u && frozen[i] != 0u) { fout[i] = cur; return; }
  bx = cur.x; by = cur.y;
  bestErr = err[i];
  bestCost = bestErr + occOf(bx, by);
  tryNeighbour(x - 1, y, x, y);
  tryNeighbour(x + 1, y, x, y);
  tryNeighbour(x, y - 1, x, y);
  tryNeighbour(x, y + 1, x, y);
  if (p.jump > 1) {
    tryNeighbour(x - p.jump, y, x, y);
    tryNeighbour(x + p.jump, y, x, y);
    tryNeighbour(x, y - p.jump, x, y);
    tryNeighbour(x, y + p.jump, x, y);
  }
  rngInit(p.seed, p.level, p.iter, u32(i));
  for (var rad = p.maxRadius; rad >= 1; rad /= 2) {
    let cx = clamp(bx + rngRange(-rad, rad), p.r, p.sw - 1 - p.r);
    let cy = clamp(by + rngRange(-rad, rad), p.r, p.sh - 1 - p.r);
    tryPatch(cx, cy, x, y);
  }
  fout[i] = vec2i(bx, by);
  err[i] = bestErr;
}
`;

/**
 * Voting, gather form: each target pixel averages the style pixels that the patches covering it
 * map it to (weighted: w = 1 / (1 + patch error)). Also refreshes the style channels of the target
 * features, and marks pixels whose vote moved less than stopThr as frozen for the next search.
 */
export const voteWgsl = `${header}
@group(0) @binding(1) var<storage, read> styleL: array<f32>;
@group(0) @binding(2) var<storage, read> nnf: array<vec2i>;
@group(0) @binding(3) var<storage, read> err: array<f32>;
@group(0) @binding(4) var<storage, read_write> est: array<f32>;
@group(0) @binding(5) var<storage, read_write> frozen: array<u32>;
@group(0) @binding(6) var<storage, read_write> tgtF: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  var acc: array<f32, 8>;
  var wsum = 0.0;
  let weighted = (p.flags & ${FLAG_WEIGHTED}u) != 0u;
  for (var oy = -p.r; oy <= p.r; oy++) {
    let qy = y - oy;
    if (qy < 0 || qy >= p.th) { continue; }
    for (var ox = -p.r; ox <= p.r; ox++) {
      let qx = x - ox;
      if (qx < 0 || qx >= p.tw) { continue; }
      let q = qy * p.tw + qx;
      var w = 1.0;
      if (weighted) { w = 1.0 / (1.0 + err[q]); }
      let m = nnf[q];
      let b = ((m.y + oy) * p.sw + m.x + ox) * p.cs;
      for (var c = 0; c < p.cs; c++) { acc[c] += w * styleL[b + c]; }
      wsum += w;
    }
  }
  let i = y * p.tw + x;
  let inv = 1.0 / wsum;
  var moved = 0.0;
  for (var c = 0; c < p.cs; c++) {
    let v = acc[c] * inv;
    moved = max(moved, abs(v - est[i * p.cs + c]));
    est[i * p.cs + c] = v;
    tgtF[i * p.k * 4 + c] = v * p.scale;
  }
  if ((p.flags & ${FLAG_COMPUTE_FROZEN}u) != 0u) {
    frozen[i] = select(0u, 1u, moved < p.stopThr);
  }
}
`;

/**
 * EbSynth's stop rule made wider: a pixel stays frozen only if every pixel within r is, rows
 * (dir 0) then columns (dir 1), as native DilateActive does, so frozen regions shrink by a patch
 * radius and pixels next to a moving one keep searching.
 */
export const dilateWgsl = `${header}
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = i32(g.x); let y = i32(g.y);
  if (x >= p.tw || y >= p.th) { return; }
  var f = 1u;
  if (p.dir == 0) {
    for (var k = max(0, x - p.r); k <= min(p.tw - 1, x + p.r); k++) { f &= src[y * p.tw + k]; }
  } else {
    for (var k = max(0, y - p.r); k <= min(p.th - 1, y + p.r); k++) { f &= src[k * p.tw + x]; }
  }
  dst[y * p.tw + x] = f;
}
`;

/**
 * The result as bytes for a device call's readback, four to a word: byte i of the interleaved
 * image is floor(est[i] + 0.5) clamped to 0..255, which is the host's Math.round for these
 * values (a float on the 0..255 scale plus a half is exact in f32). Words run along rows of outW
 * invocations, so a large image stays within the dispatch limits.
 */
export const packBytesWgsl = `${header}
@group(0) @binding(1) var<storage, read> est: array<f32>;
@group(0) @binding(2) var<storage, read_write> packed: array<u32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (i32(g.x) >= p.outW) { return; }
  let w = i32(g.y) * p.outW + i32(g.x);
  let n = p.tw * p.th * p.cs;
  if (w * 4 >= n) { return; }
  var word = 0u;
  for (var b = 0; b < 4; b++) {
    let i = w * 4 + b;
    if (i < n) { word |= u32(clamp(floor(est[i] + 0.5), 0.0, 255.0)) << (8u * u32(b)); }
  }
  packed[w] = word;
}
`;

/**
 * Early stop of a pyramid level, decided on the GPU so the host never waits on it: the rest of
 * the level's dispatches are indirect, and their workgroup counts (args) drop to zero once the
 * level is done. Words of args: target grid, source grid, reduce grid; state: previous mean
 * error (f32 bits), iterations run at this level, iterations run in the call, level done (0/1).
 */
export const ARGS_WORDS = 9;
export const STATE_WORDS = 4;
const stopBuffers = `
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> args: array<u32>;
`;

/** One invocation at each level's start: full grids again; mode 1 also zeroes the call's count. */
export const stopResetWgsl = `${header}
@group(0) @binding(1) var<storage, read> unused: array<u32>;
${stopBuffers}
@compute @workgroup_size(1)
fn main() {
  let full = array<u32, 9>(
    u32((p.tw + 7) / 8), u32((p.th + 7) / 8), 1u,
    u32((p.sw + 7) / 8), u32((p.sh + 7) / 8), 1u,
    u32((p.tw * p.th + 255) / 256), 1u, 1u);
  for (var k = 0u; k < 9u; k++) { args[k] = full[k]; }
  state[0] = 0u;
  state[1] = 0u;
  state[3] = 0u;
  if (p.mode == 1) { state[2] = 0u; }
}
`;

/** Two sums over a 256-wide workgroup into se[0] and sa[0], always in the same order (deterministic). */
const workgroupSums = `
var<workgroup> se: array<f32, 256>;
var<workgroup> sa: array<f32, 256>;
fn sumWorkgroup(l: u32, e: f32, a: f32) {
  se[l] = e; sa[l] = a;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (l < s) { se[l] += se[l + s]; sa[l] += sa[l + s]; }
    workgroupBarrier();
  }
}
`;

/** Per 256 pixels, in a fixed order (deterministic): the sum of patch errors and the pixels not frozen. */
export const stopReduceWgsl = `${header}
@group(0) @binding(1) var<storage, read> err: array<f32>;
@group(0) @binding(2) var<storage, read> frozen: array<u32>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec2f>;
${workgroupSums}@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) wg: vec3u) {
  let i = wg.x * 256u + l;
  var e = 0.0; var a = 0.0;
  if (i < u32(p.tw * p.th)) {
    e = err[i];
    if (frozen[i] == 0u) { a = 1.0; }
  }
  sumWorkgroup(l, e, a);
  if (l == 0u) { partials[wg.x] = vec2f(se[0], sa[0]); }
}
`;

/**
 * The native rule after each search-vote iteration: the level is done when the mean patch error
 * improved by less than conv (relative) since the last iteration, or when every pixel is frozen
 * (stopThr > 0: the next iteration could change nothing). Done: the level's grids become empty.
 * Dispatched directly (it writes the arguments), it changes nothing once the level is done.
 */
export const stopDecideWgsl = `${header}
@group(0) @binding(1) var<storage, read> partials: array<vec2f>;
${stopBuffers}
${workgroupSums}@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) l: u32) {
  let groups = u32((p.tw * p.th + 255) / 256);
  var e = 0.0; var a = 0.0;
  for (var j = l; j < groups; j += 256u) { let v = partials[j]; e += v.x; a += v.y; }
  sumWorkgroup(l, e, a);
  // Once the level is done the partials are stale (their reduction was skipped): nothing is written.
  if (l == 0u && state[3] == 0u) {
    let mean = se[0] / f32(p.tw * p.th);
    let prev = bitcast<f32>(state[0]);
    var done = p.stopThr > 0.0 && sa[0] == 0.0;
    if (p.conv > 0.0 && state[1] > 0u && prev - mean < p.conv * prev) { done = true; }
    state[0] = bitcast<u32>(mean);
    state[1] += 1u;
    state[2] += 1u;
    if (done) {
      for (var k = 0u; k < 9u; k++) { args[k] = 0u; }
      state[3] = 1u;
    }
  }
}
`;
