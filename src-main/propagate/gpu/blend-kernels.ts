// WGSL compute kernels for the GPU blend of one frame (the CPU reference is native/src/blend:
// mask_select, color_space, poisson_fuse, temporal_filter). Every kernel is a gather (each
// invocation writes only its own pixel), so results never depend on scheduling: two runs give
// identical bytes. One shader module, one entry point per step, one bind group for all of them.
import { paramLayout } from './params.ts';

/** Per-dispatch parameters, struct P of every blend kernel; the vec4 fields hold one value per channel. */
export const BLEND_PARAMS = paramLayout({
  W: 'i32', H: 'i32', N: 'i32', rule: 'u32',
  oA: 'u32', oB: 'u32', oM: 'u32', oP: 'u32',
  carry: 'u32', space: 'u32', mix: 'u32', hasFlow: 'u32',
  wt: 'f32', keep: 'f32', band: 'f32', clip: 'f32',
  dIn: 'u32', dOut: 'u32', strength: 'f32', invTol: 'f32',
  poisson: 'u32', radius: 'i32',
  lam: 'vec4f', c1: 'vec4f', c2: 'vec4f', invTheta: 'vec4f',
});

/** Planes of the `planes` buffer, each width*height vec4f (xyz used). */
export const PLANE = { A: 0, B: 1, F: 2, R: 3, X: 4, D0: 5, D1: 6, WARP: 7 } as const;
export const PLANES = 8;
/** Selection rules, as blend.ts names them. */
export const RULE = { carry: 0, hysteresis: 1, nearest: 2, crossfade: 3 } as const;
/** How the previous mask reaches this frame: none, as is (no flow), or warped along the flow. */
export const CARRY = { none: 0, still: 1, warped: 2 } as const;

export const ENTRY_POINTS = ['boxH', 'boxV', 'prep', 'rhs', 'cheb', 'finish', 'deflick'] as const;

export const blendWgsl = `${BLEND_PARAMS.wgsl}// RGB bytes of A, B, the previous output, and the previous mask's bytes, at word offsets oA..oP.
@group(0) @binding(1) var<storage, read> bytes: array<u32>;
// errA [0, N), errB [N, 2N), flow (dx, dy) [2N, 4N).
@group(0) @binding(2) var<storage, read> floats: array<f32>;
@group(0) @binding(3) var<storage, read_write> planes: array<vec4f>;
// mask [0, N); output word r | g << 8 | b << 16 | mask << 24 at [N, 2N).
@group(0) @binding(4) var<storage, read_write> state: array<u32>;

fn byteAt(base: u32, i: u32) -> u32 {
  return (bytes[base + (i >> 2u)] >> ((i & 3u) * 8u)) & 0xffu;
}
fn rgbAt(base: u32, pix: u32) -> vec3f {
  let j = pix * 3u;
  return vec3f(f32(byteAt(base, j)), f32(byteAt(base, j + 1u)), f32(byteAt(base, j + 2u)));
}
fn plane(k: u32, i: i32) -> u32 { return k * u32(p.N) + u32(i); }
// NaN compares unpredictably once compiled, so finiteness is read from the bits.
fn nonFinite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u; }

// sRGB bytes to CIE Lab (D65), as OpenCV's float RGB2Lab; or plain 0..255 floats in 'rgb'.
fn gammaIn(v: f32) -> f32 {
  if (v <= 0.04045) { return v / 12.92; }
  return pow((v + 0.055) / 1.055, 2.4);
}
fn labF(t: f32) -> f32 {
  if (t > 0.008856) { return pow(t, 1.0 / 3.0); }
  return 7.787 * t + 16.0 / 116.0;
}
fn toWork(rgb: vec3f) -> vec3f {
  if (p.space == 1u) { return rgb; }
  let c = rgb * (1.0 / 255.0);
  let r = gammaIn(c.x); let g = gammaIn(c.y); let b = gammaIn(c.z);
  let X = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456;
  let Y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
  let Z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754;
  let fx = labF(X); let fy = labF(Y); let fz = labF(Z);
  let L = select(903.3 * Y, 116.0 * fy - 16.0, Y > 0.008856);
  return vec3f(L, 500.0 * (fx - fy), 200.0 * (fy - fz));
}
fn gammaOut(v: f32) -> f32 {
  if (v <= 0.0031308) { return 12.92 * v; }
  return 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}
fn labInv(f: f32) -> f32 {
  if (f <= 6.0 / 29.0) { return (f - 16.0 / 116.0) / 7.787; }
  return f * f * f;
}
// Back to bytes: rounded half to even and saturated, as OpenCV's convertTo.
fn fromWork(v: vec3f) -> vec3u {
  if (p.space == 1u) { return vec3u(clamp(round(v), vec3f(0.0), vec3f(255.0))); }
  var y: f32; var fy: f32;
  if (v.x <= 8.0) { y = v.x / 903.3; fy = 7.787 * y + 16.0 / 116.0; }
  else { fy = (v.x + 16.0) / 116.0; y = fy * fy * fy; }
  let X = labInv(v.y / 500.0 + fy) * 0.950456;
  let Z = labInv(fy - v.z / 200.0) * 1.088754;
  let lin = clamp(vec3f(
    3.240479 * X - 1.53715 * y - 0.498535 * Z,
    -0.969256 * X + 1.875991 * y + 0.041556 * Z,
    0.055648 * X - 0.204043 * y + 1.057311 * Z), vec3f(0.0), vec3f(1.0));
  let s = vec3f(gammaOut(lin.x), gammaOut(lin.y), gammaOut(lin.z)) * 255.0;
  return vec3u(clamp(round(s), vec3f(0.0), vec3f(255.0)));
}

// OpenCV's BORDER_REFLECT (fedcba|abcdef), repeated for windows wider than the frame.
fn reflect(i: i32, n: i32) -> i32 {
  var j = i;
  loop {
    if (j >= 0 && j < n) { break; }
    if (j < 0) { j = -j - 1; } else { j = 2 * n - j - 1; }
  }
  return j;
}

// Step 0, with selectionRadius > 0: the errors averaged over a (2r+1)^2 box (cv::blur, reflected
// border), rows into WARP.xy, then columns into R.xy, where prep reads them.
@compute @workgroup_size(8, 8)
fn boxH(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  var s = vec2f(0.0);
  for (var k = -p.radius; k <= p.radius; k++) {
    let j = y * p.W + reflect(x + k, p.W);
    s += vec2f(floats[j], floats[p.N + j]);
  }
  planes[plane(7u, y * p.W + x)] = vec4f(s, 0.0, 0.0);
}
@compute @workgroup_size(8, 8)
fn boxV(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  var s = vec2f(0.0);
  for (var k = -p.radius; k <= p.radius; k++) {
    s += planes[plane(7u, reflect(y + k, p.H) * p.W + x)].xy;
  }
  let side = f32(2 * p.radius + 1);
  planes[plane(3u, y * p.W + x)] = vec4f(s / (side * side), 0.0, 0.0);
}

fn prevMaskAt(x: i32, y: i32) -> f32 {
  return select(0.0, 1.0, byteAt(p.oM, u32(y * p.W + x)) != 0u);
}

// Step 1: carried mask, selection, working-space A and B, and the data term F.
@compute @workgroup_size(8, 8)
fn prep(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  let i = y * p.W + x;
  var carried = false;
  if (p.carry == 1u) {
    carried = byteAt(p.oM, u32(i)) != 0u;
  } else if (p.carry == 2u) {
    // Bilinear vote of the previous mask at the flow's source, as warpMask on the CPU.
    let dx = floats[2 * p.N + 2 * i]; let dy = floats[2 * p.N + 2 * i + 1];
    if (!nonFinite(dx) && !nonFinite(dy)) {
      let sx = clamp(f32(x) + dx, 0.0, f32(p.W - 1));
      let sy = clamp(f32(y) + dy, 0.0, f32(p.H - 1));
      let x0 = i32(sx); let y0 = i32(sy);
      let x1 = min(x0 + 1, p.W - 1); let y1 = min(y0 + 1, p.H - 1);
      let fx = sx - f32(x0); let fy = sy - f32(y0);
      let top = prevMaskAt(x0, y0) * (1.0 - fx) + prevMaskAt(x1, y0) * fx;
      let bottom = prevMaskAt(x0, y1) * (1.0 - fx) + prevMaskAt(x1, y1) * fx;
      carried = top * (1.0 - fy) + bottom * fy > 0.5;
    }
  }
  let w = p.wt;
  var e = vec2f(floats[i], floats[p.N + i]);
  if (p.radius > 0) { e = planes[plane(3u, i)].xy; }
  let lhs = w * e.x; let rhs = (1.0 - w) * e.y;
  var m = false;
  if (p.rule >= 2u) {
    m = w > 0.5;  // nearest / crossfade: ties go to the first key
  } else {
    let plain = lhs > rhs || (lhs == rhs && w >= 0.5);
    if (p.rule == 0u) { m = plain || carried; }
    else if (w <= 0.0 || w >= 1.0) { m = w >= 1.0; }
    else if (p.carry == 0u) { m = plain; }
    else if (carried) { m = !(rhs > p.keep * lhs); }
    else { m = lhs > p.keep * rhs; }
  }
  state[i] = select(0u, 1u, m);
  let a = toWork(rgbAt(p.oA, u32(i)));
  let b = toWork(rgbAt(p.oB, u32(i)));
  planes[plane(0u, i)] = vec4f(a, 0.0);
  planes[plane(1u, i)] = vec4f(b, 0.0);
  var f: vec3f;
  if (p.mix == 1u || p.rule == 3u) {
    f = (1.0 - w) * a + w * b;
  } else {
    f = select(a, b, m);
    if (p.band > 0.0) {
      // Where neither side is clearly better, fade toward the inverse-error mix (mixUncertain).
      // From the pixel's own errors, as on the CPU, whatever the selection averaged.
      let sa = w * floats[i] + 1e-6; let sb = (1.0 - w) * floats[p.N + i] + 1e-6;
      if (sa > 0.0 && sb > 0.0) {
        let k = 1.0 - abs(log(sa / sb)) / p.band;
        if (k > 0.0) {
          let wb = sa / (sa + sb);
          f = f + k * ((1.0 - wb) * a + wb * b - f);
        }
      }
    }
  }
  planes[plane(2u, i)] = vec4f(f, 0.0);
}

// Target difference on the edge i -> j: from A, B, or on a seam their mean; clipped.
fn edge(i: i32, j: i32) -> vec3f {
  let da = planes[plane(0u, j)].xyz - planes[plane(0u, i)].xyz;
  let db = planes[plane(1u, j)].xyz - planes[plane(1u, i)].xyz;
  let s = state[i] + state[j];
  let g = select(select(0.5 * (da + db), db, s == 2u), da, s == 0u);
  return clamp(g, vec3f(-p.clip), vec3f(p.clip));
}

// (L v)_i: the grid graph Laplacian, the Neumann operator the CPU's DCT inverts.
fn lap(k: u32, x: i32, y: i32, i: i32) -> vec3f {
  let c = planes[plane(k, i)].xyz;
  var s = vec3f(0.0);
  if (x + 1 < p.W) { s += c - planes[plane(k, i + 1)].xyz; }
  if (x > 0) { s += c - planes[plane(k, i - 1)].xyz; }
  if (y + 1 < p.H) { s += c - planes[plane(k, i + p.W)].xyz; }
  if (y > 0) { s += c - planes[plane(k, i - p.W)].xyz; }
  return s;
}

// Step 2: the screened Poisson system (L + lambda) u = lambda F - div g, started at u = F.
// Residual r0 = -div g - L F; Chebyshev's first direction d0 = r0 / theta.
@compute @workgroup_size(8, 8)
fn rhs(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  let i = y * p.W + x;
  var div = vec3f(0.0);
  if (x + 1 < p.W) { div += edge(i, i + 1); }
  if (x > 0) { div -= edge(i - 1, i); }
  if (y + 1 < p.H) { div += edge(i, i + p.W); }
  if (y > 0) { div -= edge(i - p.W, i); }
  let r0 = -div - lap(2u, x, y, i);
  planes[plane(3u, i)] = vec4f(r0, 0.0);
  planes[plane(4u, i)] = planes[plane(2u, i)];
  planes[plane(5u, i)] = vec4f(r0 * p.invTheta.xyz, 0.0);
}

// Step 3, once per iteration: Chebyshev iteration on the known spectrum [lambda, lambda + 8) of
// the operator. x += d; r -= (L + lambda) d; d' = c1 d + c2 r (d ping-pongs between two planes).
@compute @workgroup_size(8, 8)
fn cheb(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  let i = y * p.W + x;
  let d = planes[plane(p.dIn, i)].xyz;
  let ad = lap(p.dIn, x, y, i) + p.lam.xyz * d;
  planes[plane(4u, i)] = vec4f(planes[plane(4u, i)].xyz + d, 0.0);
  let r = planes[plane(3u, i)].xyz - ad;
  planes[plane(3u, i)] = vec4f(r, 0.0);
  planes[plane(p.dOut, i)] = vec4f(p.c1.xyz * d + p.c2.xyz * r, 0.0);
}

// Cubic convolution weights (a = -0.75) at a fraction quantised to 1/32 px, as cv::remap.
fn cubicW(t: f32) -> vec4f {
  let A = -0.75;
  let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
  let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
  let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
  return vec4f(w0, w1, w2, 1.0 - w0 - w1 - w2);
}

// Step 4: back to bytes; with the de-flicker, the previous output warped bicubically along the
// flow (border replicated) and its mean absolute difference to this output (-1: no source).
@compute @workgroup_size(8, 8)
fn finish(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  let i = y * p.W + x;
  let v = select(planes[plane(2u, i)].xyz, planes[plane(4u, i)].xyz, p.poisson == 1u);
  let c = fromWork(v);
  state[p.N + i] = c.x | (c.y << 8u) | (c.z << 16u) | (state[i] << 24u);
  if (p.strength <= 0.0) { return; }
  var fl = vec2f(0.0);
  if (p.hasFlow == 1u) { fl = vec2f(floats[2 * p.N + 2 * i], floats[2 * p.N + 2 * i + 1]); }
  let sx = f32(x) + fl.x; let sy = f32(y) + fl.y;
  let inside = !nonFinite(fl.x) && !nonFinite(fl.y) && sx >= 0.0 && sx <= f32(p.W - 1) && sy >= 0.0 && sy <= f32(p.H - 1);
  if (!inside) { planes[plane(7u, i)] = vec4f(0.0, 0.0, 0.0, -1.0); return; }
  let qx = i32(round(sx * 32.0)); let qy = i32(round(sy * 32.0));
  let ix = qx >> 5u; let iy = qy >> 5u;
  let wx = cubicW(f32(qx & 31) / 32.0); let wy = cubicW(f32(qy & 31) / 32.0);
  var acc = vec3f(0.0);
  for (var j = 0; j < 4; j++) {
    let yy = clamp(iy - 1 + j, 0, p.H - 1);
    var row = vec3f(0.0);
    for (var k = 0; k < 4; k++) {
      let xx = clamp(ix - 1 + k, 0, p.W - 1);
      row += wx[k] * rgbAt(p.oP, u32(yy * p.W + xx));
    }
    acc += wy[j] * row;
  }
  let cur = vec3f(c);
  let dd = abs(acc - cur);
  planes[plane(7u, i)] = vec4f(acc, (dd.x + dd.y + dd.z) / 3.0);
}

// Step 5: pull toward the warped previous output where the 3x3 mean difference is small.
@compute @workgroup_size(8, 8)
fn deflick(@builtin(global_invocation_id) gid: vec3u) {
  let x = i32(gid.x); let y = i32(gid.y);
  if (x >= p.W || y >= p.H) { return; }
  let i = y * p.W + x;
  let here = planes[plane(7u, i)];
  if (here.w < 0.0) { return; }
  var sum = 0.0;
  for (var j = -1; j <= 1; j++) {
    let yy = clamp(y + j, 0, p.H - 1);
    for (var k = -1; k <= 1; k++) {
      let xx = clamp(x + k, 0, p.W - 1);
      sum += max(planes[plane(7u, yy * p.W + xx)].w, 0.0);
    }
  }
  let r = sum * (1.0 / 9.0) * p.invTol;
  let kk = p.strength * exp(-0.5 * r * r);
  let word = state[p.N + i];
  let cur = vec3f(f32(word & 0xffu), f32((word >> 8u) & 0xffu), f32((word >> 16u) & 0xffu));
  let o = vec3u(floor(clamp(cur + kk * (here.xyz - cur), vec3f(0.0), vec3f(255.0)) + 0.5));
  state[p.N + i] = o.x | (o.y << 8u) | (o.z << 16u) | (word & 0xff000000u);
}
`;
