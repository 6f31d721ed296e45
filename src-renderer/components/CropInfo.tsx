// The crop of the working size, shown: a line ("crops 28 px top and bottom, 11%") and, on
// demand, the source frame's outline with the cut-away bands dimmed around what is kept.
import { useEffect, useState } from 'react';
import type { Crop, ProjectPlan, RerenderApi } from '../../src-main/api/contract.ts';
import { cropText, keptRegion } from '../lib/crop.ts';

/** The source's shape with the cropped-away bands dimmed; `imageUrl` (the kept picture) fills the rest. */
export function CropDiagram({ source, crop, imageUrl, width = 240 }: { source: { width: number; height: number }; crop: Crop; imageUrl?: string; width?: number }) {
  const r = keptRegion(source, crop);
  const height = Math.round((width * source.height) / source.width);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return (
    <div className="crop-diagram" data-testid="crop-diagram" style={{ width, height }}>
      <div className="crop-kept" style={{ left: pct(r.x), top: pct(r.y), width: pct(r.w), height: pct(r.h) }}>
        {imageUrl && <img src={imageUrl} alt="The part of the frame that is kept" />}
      </div>
    </div>
  );
}

/** The crop line for the editor's header, with a toggle for the diagram. */
export function CropInfo({ source, crop, imageUrl }: { source: { width: number; height: number }; crop: Crop | undefined; imageUrl?: string }) {
  const [open, setOpen] = useState(false);
  const text = crop ? cropText(source, crop) : null;
  if (!crop || text === null) return null;
  return (
    <span className="crop-info">
      <button
        type="button"
        className="crop-toggle"
        data-testid="crop-info"
        aria-expanded={open}
        title="The working size keeps the middle of the picture: show what is cut away"
        onClick={() => setOpen((o) => !o)}
      >
        {text}
      </button>
      {open && (
        <div className="crop-popover" role="dialog" aria-label="Crop of the working size">
          <CropDiagram source={source} crop={crop} imageUrl={imageUrl} />
          <p className="muted small">Dimmed: the part of the source the project does not keep.</p>
        </div>
      )}
    </span>
  );
}

/**
 * What a new project from `videoPath` would keep: its working size and crop, asked of the services
 * (they probe the video) before the project is made. Silent when the video cannot be read: creating
 * the project says why.
 */
export function ProjectPlanInfo({ api, videoPath, shortSide }: { api: Pick<RerenderApi, 'planProject'>; videoPath: string; shortSide?: number }) {
  const [plan, setPlan] = useState<ProjectPlan | null>(null);
  useEffect(() => {
    let live = true;
    setPlan(null);
    const asked = shortSide === undefined ? api.planProject(videoPath) : api.planProject(videoPath, shortSide);
    asked.then((p) => live && setPlan(p), () => undefined);
    return () => {
      live = false;
    };
  }, [api, videoPath, shortSide]);
  if (!plan) return null;
  const crop = cropText(plan.source, plan.crop);
  return (
    <div className="plan-info" data-testid="new-project-plan">
      <p className="small">
        {plan.source.width}×{plan.source.height} → working size {plan.working.width}×{plan.working.height}
        {crop ? <span className="crop-warn" data-testid="new-project-crop"> · {crop}</span> : ' · nothing cropped'}
      </p>
      {crop && <CropDiagram source={plan.source} crop={plan.crop} width={160} />}
    </div>
  );
}
