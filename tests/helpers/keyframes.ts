// The key-frame images a project holds, by frame (read-only: the project may be open elsewhere).
import { Project } from '../../src-main/project/index.ts';

export function keyframeImages(file: string): Map<number, Buffer> {
  const p = Project.openReadOnly(file);
  try {
    return new Map(p.listKeyframes(() => '').map((k) => [k.frame, p.getKeyframe(k.frame)!.image!]));
  } finally {
    p.close();
  }
}
