// A key-frame state marker as SVG, matching the timeline's shapes (used in lists and the legend).
import type { KeyframeState } from '../../src-main/api/contract.ts';
import { KEYFRAME_STYLES } from '../lib/keyframes.ts';

export function KeyframeGlyph({ state, size = 12 }: { state: KeyframeState; size?: number }) {
  const s = KEYFRAME_STYLES[state];
  const c = size / 2;
  const r = size / 2 - 1.5;
  let shape;
  if (s.shape === 'circle') shape = <circle cx={c} cy={c} r={r} fill={s.fill} stroke={s.stroke} strokeWidth={1.5} />;
  else if (s.shape === 'triangle')
    shape = <polygon points={`${c},${c - r} ${c + r},${c + r} ${c - r},${c + r}`} fill={s.fill} stroke={s.stroke} strokeWidth={1.5} />;
  else shape = <polygon points={`${c},${c - r} ${c + r},${c} ${c},${c + r} ${c - r},${c}`} fill={s.fill} stroke={s.stroke} strokeWidth={1.5} />;
  return (
    <svg width={size} height={size} className="kf-glyph" role="img" aria-label={s.label}>
      {shape}
    </svg>
  );
}
