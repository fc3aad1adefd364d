// A loaded model: its config, the parameter layout, and its weights. The weights stay in the
// format of the file they came from (F16, BF16, Q8_0, Q4_K ...), as blocks of rows per
// parameter (WeightPart), so a 1.5B-parameter Q4_K file takes about 1 GB and not 6 GB. The
// backends that run those formats (runtime/fastBackend.ts) pack the parts directly.
// `params` (every weight in ONE float32 buffer, llm.c style, with `views` into it) is made on
// first use, for the code that computes in float32 over the whole layout: the reference
// backend, training, LoRA merges and exports. From then on the float32 buffer is the weights.
import { bytesFor, dequantize, type WeightType } from '../formats/formats';
import type { ModelConfig } from './config';
import { buildLayout, paramViews, type ParamLayout, type ParamViews } from './layout';

/** Consecutive rows of an internal (out, in) parameter, in one stored format. A 1-D parameter is one row. */
export interface WeightPart {
  readonly type: WeightType;
  readonly rows: number;
  /** Row width: the parameter's innermost dimension. */
  readonly cols: number;
  /**
   * rows x cols weights in `type`'s block layout, row-major. For a GGUF file's matrices each
   * read of this property reads them from the file again (the model holds no copy): read it
   * once per use.
   */
  readonly data: Uint8Array;
  /**
   * Rows [r0, r0 + n) alone, read from the file (into `into` when given), for parts that stay in
   * it (GGUF matrices in the file's row order): the embedding looks up a token's row without a
   * copy of the matrix, and packing reads chunks straight into the backend's staging memory.
   */
  readonly readRows?: (r0: number, n: number, into?: Uint8Array) => Uint8Array;
}

export class Model {
  readonly layout: ParamLayout;
  private f32: Float32Array | null = null;
  private v: ParamViews | null = null;
  /** Stored parts by parameter name, until the float32 buffer is made. */
  private stored: Map<string, WeightPart[]> | null;

  constructor(
    readonly config: ModelConfig,
    /** Every parameter's parts (rows in order), or a float32 buffer in the layout. */
    weights: Map<string, WeightPart[]> | Float32Array | undefined,
    /** File or folder it was loaded from, or null for a model made in memory. */
    readonly dir: string | null = null,
  ) {
    this.layout = buildLayout(config);
    if (weights instanceof Map) {
      this.stored = weights;
    } else {
      this.stored = null;
      this.params = weights ?? new Float32Array(this.layout.total);
    }
  }

  /** Every weight in float32 in the layout's one buffer (made from the stored parts on first use). */
  get params(): Float32Array {
    if (this.f32 === null) this.materialize();
    return this.f32!;
  }

  set params(buffer: Float32Array) {
    if (buffer.length !== this.layout.total) throw new Error(`Model.params: buffer holds ${buffer.length} floats, the layout needs ${this.layout.total}`);
    this.f32 = buffer;
    this.v = paramViews(this.layout, buffer);
    this.stored = null;
  }

  get views(): ParamViews {
    if (this.v === null) this.materialize();
    return this.v!;
  }

  set views(views: ParamViews) {
    this.v = views;
  }

  /** Whether the weights are held as one float32 buffer (else in their stored formats). */
  get isFloat32(): boolean {
    return this.f32 !== null;
  }

  /** A parameter's rows in their stored formats (one float32 part once the buffer is made). */
  parts(name: string): readonly WeightPart[] {
    const spec = this.layout.byName.get(name);
    if (spec === undefined) throw new Error(`Model.parts: no parameter ${name} in this layout`);
    if (this.stored !== null) {
      const parts = this.stored.get(name);
      if (parts === undefined) throw new Error(`Model.parts: parameter ${name} was not loaded`);
      return parts;
    }
    const data = this.f32!.subarray(spec.offset, spec.offset + spec.size);
    const cols = spec.shape.length === 2 ? spec.shape[1]! : spec.size;
    return [{ type: 'F32', rows: spec.size / cols, cols, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }];
  }

  /** Bytes the weights take in their stored formats. */
  weightBytes(): number {
    if (this.stored === null) return this.layout.total * 4;
    let n = 0;
    for (const parts of this.stored.values()) for (const p of parts) n += bytesFor(p.type, p.rows * p.cols);
    return n;
  }

  /** The stored formats, with how many weights each holds (for messages and `limelight info`). */
  formats(): Map<WeightType, number> {
    const out = new Map<WeightType, number>();
    for (const spec of this.layout.specs) for (const p of this.parts(spec.name)) out.set(p.type, (out.get(p.type) ?? 0) + p.rows * p.cols);
    return out;
  }

  /**
   * The same weights as a float32 model, this one left in its stored formats (the reference
   * backend the inspector runs on computes in float32; the packed backend keeps the stored parts).
   * A float32 model is its own copy.
   */
  float32(): Model {
    if (this.stored === null) return this;
    const copy = new Model(this.config, this.stored, this.dir);
    copy.materialize();
    return copy;
  }

  private materialize(): void {
    const stored = this.stored!;
    const buffer = new Float32Array(this.layout.total);
    for (const spec of this.layout.specs) {
      let at = spec.offset;
      for (const p of stored.get(spec.name) ?? []) {
        const n = p.rows * p.cols;
        dequantize(p.type, p.data, buffer.subarray(at, at + n));
        at += n;
      }
    }
    this.params = buffer;
  }
}

export function createModel(config: ModelConfig, params?: Float32Array, dir: string | null = null): Model {
  return new Model(config, params, dir);
}
