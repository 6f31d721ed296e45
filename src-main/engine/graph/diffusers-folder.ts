// A diffusers/transformers component folder (config.json + one safetensors
// file) as a compiler ModelSource.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSource } from './compile.ts';
import { safetensorsSource } from './safetensors-source.ts';
import { CodedError } from '../../errors.ts';

export class ComponentFolderError extends CodedError<'BAD_MODEL'> {
  constructor(message: string) {
    super('BAD_MODEL', message);
  }
}

export function diffusersComponent(folder: string): ModelSource {
  const configPath = join(folder, 'config.json');
  if (!existsSync(configPath)) throw new ComponentFolderError(`${folder}: no config.json`);
  const files = readdirSync(folder).filter((f) => f.endsWith('.safetensors')).sort();
  const file = files[0];
  if (!file) throw new ComponentFolderError(`${folder}: no .safetensors weights`);
  if (files.length > 1) throw new ComponentFolderError(`${folder}: several .safetensors files (${files.join(', ')}); sharded weights are not supported`);
  const weightsPath = join(folder, file);
  const st = statSync(weightsPath);
  return {
    config: JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>,
    weights: safetensorsSource(weightsPath),
    identity: `${weightsPath}:${st.size}:${st.mtimeMs}`,
  };
}
