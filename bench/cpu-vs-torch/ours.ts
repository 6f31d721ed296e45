// Our side: the compiled graphs on onnxruntime's CPU EP through InferenceHost, the worker the
// app uses, so session-options.ts and the message round trips are what the app pays. The
// ControlNet residuals come back to this thread and go out again, as in the pipeline.
import { InferenceHost } from '../../src-main/engine/runtime/inference-host.ts';
import type { LoadedModel } from '../../src-main/engine/runtime/inference-host.ts';
import type { Feeds, TensorData } from '../../src-main/engine/runtime/tensor-data.ts';
import type { BenchInputs } from './inputs.ts';
import { inputShapes } from './inputs.ts';
import type { OpName, Side, Timing } from './ops.ts';
import type { PreparedPaths } from './prepare.ts';

export class OursSide implements Side {
  readonly name = 'ours (onnxruntime CPU EP)';
  /** Outputs of the latest run of each op (compared with torch's after warm-up). */
  readonly last = new Map<string, TensorData>();

  private readonly host: InferenceHost;
  private readonly models: Record<keyof PreparedPaths['graphs'], LoadedModel>;
  private readonly feeds: Record<OpName, Feeds>;

  private constructor(host: InferenceHost, models: Record<keyof PreparedPaths['graphs'], LoadedModel>, feeds: Record<OpName, Feeds>) {
    this.host = host;
    this.models = models;
    this.feeds = feeds;
  }

  static async open(paths: PreparedPaths, inputs: BenchInputs, size: number, threads: number): Promise<OursSide> {
    const host = new InferenceHost({ provider: 'cpu', intraOpThreads: threads });
    const models = {
      unet: await host.load(paths.graphs.unet),
      controlnet: await host.load(paths.graphs.controlnet),
      vaeEncoder: await host.load(paths.graphs.vaeEncoder),
      vaeDecoder: await host.load(paths.graphs.vaeDecoder),
    };
    const dims = inputShapes(size);
    const f = (k: keyof BenchInputs): TensorData => ({ type: 'float32', dims: dims[k], data: inputs[k] });
    const feeds: Record<OpName, Feeds> = {
      step: {
        sample: f('sample'), timestep: f('timestep'), encoder_hidden_states: f('encoder_hidden_states'),
        controlnet_cond: f('controlnet_cond'), conditioning_scale: { type: 'float32', dims: [1], data: Float32Array.of(1) },
      },
      encode: { image: f('image') },
      decode: { latents: f('latents') },
    };
    return new OursSide(host, models, feeds);
  }

  async run(op: OpName): Promise<Timing> {
    const t0 = performance.now();
    const c0 = process.cpuUsage(); // the whole process: this thread, the worker and ORT's pool
    const out = await this.exec(op);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    for (const [k, v] of Object.entries(out)) this.last.set(k, v);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  }

  private async exec(op: OpName): Promise<Record<string, TensorData>> {
    const feeds = this.feeds[op];
    switch (op) {
      case 'step': {
        const { controlnet_cond: cond, conditioning_scale: scale, ...common } = feeds;
        const residuals = await this.host.run(this.models.controlnet, { ...common, controlnet_cond: cond!, conditioning_scale: scale! });
        return this.host.run(this.models.unet, { ...common, ...residuals });
      }
      case 'encode': return this.host.run(this.models.vaeEncoder, feeds);
      case 'decode': return this.host.run(this.models.vaeDecoder, feeds);
    }
  }

  peakRssKb(): Promise<number> {
    // This process holds only the host and its worker: compilation ran in prepare.ts's process.
    return Promise.resolve(process.resourceUsage().maxRSS);
  }

  close(): Promise<void> {
    return this.host.close();
  }
}
