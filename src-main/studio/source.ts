// The bridge between what the project stores about its source and what the media layer needs
// to decode it at the working size.
import { cropScaleFilter, type VideoProbe, type WorkingGeometry as MediaGeometry } from '../media/index.ts';
import type { Project, SourceProbe, WorkingGeometry } from '../project/index.ts';
import { fileContentHash } from '../media/hash.ts';
import { CodedError } from '../errors.ts';

/** The project keeps the media probe whole (its schema is loose), so it can be handed back as is. */
export function probeOf(project: Project): VideoProbe {
  const src = project.source();
  return { ...(src.probe as SourceProbe & VideoProbe), path: src.path };
}

/** Working geometry as the project stores it: the effective crop (artist's crop + aspect fix) and the short side. */
export function storedGeometry(g: MediaGeometry, shortSide: number): WorkingGeometry {
  return { width: g.width, height: g.height, crop: g.crop, shortSide };
}

/** The media layer's geometry for the project's working size; the stored crop already makes the aspect exact. */
export function mediaGeometryOf(project: Project): MediaGeometry {
  const { probe, working } = project.source();
  return {
    width: working.width,
    height: working.height,
    sourceWidth: probe.width,
    sourceHeight: probe.height,
    crop: working.crop,
    filter: cropScaleFilter(probe.width, probe.height, working.crop, working.width, working.height),
  };
}

export interface SourceAccess {
  path: string;
  probe: VideoProbe;
  geometry: MediaGeometry;
  relinkedFrom: string | null;
}

/**
 * Finds the source video (re-linking it by content hash if it moved) and returns what decoding
 * needs. SOURCE_MISSING when it is nowhere to be found.
 */
export async function openSource(project: Project, searchDirs: readonly string[] = []): Promise<SourceAccess> {
  const res = await project.resolveSource(searchDirs, (p) => fileContentHash(p));
  if (res.status === 'missing') {
    throw new CodedError(
      'SOURCE_MISSING',
      `The source video '${res.path}' is missing. Put it back, or place it next to the project file (it is found again by its content).`,
    );
  }
  return {
    path: res.path,
    probe: { ...probeOf(project), path: res.path },
    geometry: mediaGeometryOf(project),
    relinkedFrom: res.status === 'relinked' ? res.previousPath : null,
  };
}
