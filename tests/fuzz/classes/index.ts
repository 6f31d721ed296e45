// Every fuzz class, by name (report.ts and replay.ts pick from here).
import type { ClassName } from '../config.ts';
import type { FuzzClass } from '../harness.ts';
import { video } from './video.ts';
import { project } from './project.ts';
import { safetensors } from './safetensors.ts';
import { image } from './image.ts';
import { server } from './server.ts';
import { kill } from './kill.ts';
import { writers } from './writers.ts';
import { pickle } from './pickle.ts';

export const CLASS_LIST: Record<ClassName, FuzzClass<never>> = {
  video, project, safetensors, image, server, kill, writers, pickle,
} as unknown as Record<ClassName, FuzzClass<never>>;
