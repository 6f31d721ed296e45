// A small graph-builder: values are names, nodes are appended in topological
// order as the model code calls them, weights go straight to an external data
// file (so a 3 GB UNet never sits in one protobuf or one buffer).
import { closeSync, openSync, writeSync } from 'node:fs';
import { AttributeType, DataType, encodeModel } from './onnx-proto.ts';
import type { AttributeMsg, NodeMsg, TensorMsg, ValueInfoMsg } from './onnx-proto.ts';
import { toHalf } from '../half.ts';

export type Dim = number | string;
export type Attr =
  | { f: number }
  | { i: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] }
  | { t: TensorMsg };

export interface WeightTensor {
  dims: number[];
  data: Float32Array;
}

export type FloatType = 'float32' | 'float16';

export interface OpsetImport {
  domain: string;
  version: number;
}

interface ExternalSink {
  fd: number;
  location: string;
  offset: number;
}

/** Where initializers go: an open external data file, or inline (small test graphs). */
export interface BuilderOptions {
  name: string;
  /** Storage/compute type of weights and activations. */
  floatType: FloatType;
  /** Absolute path of the external data file; omitted → weights inline. */
  externalPath?: string;
  /** File name recorded in the model (relative to the .onnx file). */
  externalLocation?: string;
  opset: OpsetImport[];
}

const SMALL_INLINE_BYTES = 256;

export class GraphBuilder {
  readonly floatType: FloatType;
  readonly elemType: number;
  private readonly name: string;
  private readonly opset: OpsetImport[];
  private readonly nodes: NodeMsg[] = [];
  private readonly initializers: TensorMsg[] = [];
  private readonly inputs: ValueInfoMsg[] = [];
  private readonly outputs: ValueInfoMsg[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private sink: ExternalSink | null = null;
  private counter = 0;

  constructor(options: BuilderOptions) {
    this.name = options.name;
    this.floatType = options.floatType;
    this.elemType = options.floatType === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
    this.opset = options.opset;
    if (options.externalPath) {
      this.sink = {
        fd: openSync(options.externalPath, 'w'),
        location: options.externalLocation ?? 'weights.bin',
        offset: 0,
      };
    }
  }

  /** A fresh value name with a readable prefix. */
  uniq(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dims: Dim[], elemType: number = DataType.FLOAT): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  /** Exposes `value` as graph output `name` (an Identity when the names differ). */
  output(value: string, name: string, dims: Dim[], elemType: number = DataType.FLOAT): void {
    if (value !== name) {
      this.used.add(name);
      this.nodes.push({ name: `out_${name}`, opType: 'Identity', input: [value], output: [name], attribute: [] });
    }
    this.outputs.push(valueInfo(name, dims, elemType));
  }

  /** Appends a node; returns its output names. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { outputs?: number; domain?: string; name?: string } = {}): string[] {
    const base = this.uniq(opts.name ?? opType.toLowerCase());
    const count = opts.outputs ?? 1;
    const outputs = count === 1 ? [base] : Array.from({ length: count }, (_, k) => this.uniq(`${base}:${k}`));
    const node: NodeMsg = {
      name: base,
      opType,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    };
    if (opts.domain) node.domain = opts.domain;
    this.nodes.push(node);
    return outputs;
  }

  /** Single-output node. */
  op1(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { domain?: string; name?: string } = {}): string {
    return this.op(opType, inputs, attrs, opts)[0]!;
  }

  /** A model weight, stored as the builder's float type unless `keepFloat32`. */
  weight(name: string, tensor: WeightTensor, opts: { keepFloat32?: boolean } = {}): string {
    const asHalf = this.floatType === 'float16' && !opts.keepFloat32;
    const bytes = asHalf ? bytesOf(toHalf(tensor.data)) : bytesOf(tensor.data);
    return this.addInitializer(this.uniq(name), tensor.dims, asHalf ? DataType.FLOAT16 : DataType.FLOAT, bytes);
  }

  /** A float constant in the builder's float type (or float32 with `float32`). */
  constFloat(values: number[] | Float32Array, dims: number[], opts: { float32?: boolean } = {}): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const asHalf = this.floatType === 'float16' && !opts.float32;
    const key = `${asHalf ? 'h' : 'f'}:${dims.join('x')}:${data.length <= 16 ? Array.from(data).join(',') : ''}`;
    if (data.length <= 16 && this.constCache.has(key)) return this.constCache.get(key)!;
    const bytes = asHalf ? bytesOf(toHalf(data)) : bytesOf(data);
    const name = this.addInitializer(this.uniq('const'), dims, asHalf ? DataType.FLOAT16 : DataType.FLOAT, bytes);
    if (data.length <= 16) this.constCache.set(key, name);
    return name;
  }

  /** An int64 constant (shapes, axes), always inline and shared. */
  constInt64(values: number[], dims: number[] = [values.length]): string {
    const key = `i:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.addInitializer(this.uniq('shape'), dims, DataType.INT64, bytesOf(BigInt64Array.from(values.map(BigInt))));
    this.constCache.set(key, name);
    return name;
  }

  /** Serialized ModelProto; closes the external data file. */
  finish(metadata: Record<string, string> = {}): Uint8Array {
    if (this.sink) {
      closeSync(this.sink.fd);
      this.sink = null;
    }
    return encodeModel({
      irVersion: 8,
      producerName: 'rerender-studio',
      producerVersion: '1',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      opsetImport: this.opset,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }

  /** Closes the external data file without producing a model (on errors). */
  abort(): void {
    if (this.sink) closeSync(this.sink.fd);
    this.sink = null;
  }

  private addInitializer(name: string, dims: number[], dataType: number, bytes: Uint8Array): string {
    const tensor: TensorMsg = { name, dims, dataType };
    if (!this.sink || bytes.byteLength <= SMALL_INLINE_BYTES) {
      tensor.rawData = bytes;
    } else {
      // Large tensors page-aligned (mmap-friendly, as onnx.proto recommends), small ones 64-byte aligned.
      const align = bytes.byteLength >= 65536 ? 4096 : 64;
      const sink = this.sink;
      const offset = Math.ceil(sink.offset / align) * align;
      writeSync(sink.fd, bytes, 0, bytes.byteLength, offset);
      sink.offset = offset + bytes.byteLength;
      tensor.dataLocation = 1;
      tensor.externalData = [
        { key: 'location', value: sink.location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ];
    }
    this.initializers.push(tensor);
    return name;
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function valueInfo(name: string, dims: Dim[], elemType: number): ValueInfoMsg {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: Attr): AttributeMsg {
  if ('f' in value) return { name, type: AttributeType.FLOAT, f: value.f };
  if ('i' in value) return { name, type: AttributeType.INT, i: value.i };
  if ('s' in value) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.s) };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.TENSOR, t: value.t };
}
