// A small ONNX graph builder: nodes, initializers and typed inputs/outputs collected in order,
// then encoded as one ModelProto. Large initializers go to an external data blob (ONNX's
// external-data convention: location/offset/length entries), so a model of any size encodes
// without building one protobuf message over 2 GiB. An initializer may be lazy (its size now,
// its bytes when the blob is written), so an export converts one tensor at a time and never
// holds the whole model twice.
import { ModelProto, AttributeType, DATA_LOCATION_EXTERNAL, DataType, type DataTypeId } from './schema';

/** ONNX IR version written: onnxruntime 1.30 reads up to IR 10 (ONNX 1.16 to 1.18). */
export const IR_VERSION = 10;
/** Opset of the default ONNX domain used by the graphs. */
export const ONNX_OPSET = 17;
/** Version of onnxruntime's com.microsoft contrib domain. */
export const MS_OPSET = 1;
/** Initializers at least this large are stored in the external data blob. */
const EXTERNAL_MIN_BYTES = 1024;
/** External tensors start on this boundary so they can be mapped and read aligned. */
const EXTERNAL_ALIGN = 4096;
/** Bytes per element of each data type the graphs use. */
const ELEMENT_BYTES: Record<DataTypeId, number> = { [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.FLOAT16]: 2 };

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };
type Dim = number | string;

interface NodeRecord {
  opType: string;
  domain: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
}

/** An initializer's bytes made on demand: `read` is called once per write of the blob. */
export interface LazyBytes {
  byteLength: number;
  read: () => Uint8Array;
}

type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

interface TensorRecord {
  name: string;
  dataType: DataTypeId;
  dims: number[];
  bytes: LazyBytes;
}

interface ValueRecord {
  name: string;
  elemType: DataTypeId;
  dims: Dim[];
}

export interface EncodedModel {
  /** The ModelProto bytes. */
  model: Uint8Array;
  /** Pieces of the external data blob, in order (padding included); their concatenation is the file. */
  data: Uint8Array[];
  /** Total bytes of the external data blob. */
  dataBytes: number;
}

/** An EncodedModel whose data pieces are made when called, one at a time. */
export interface StreamedModel {
  model: Uint8Array;
  data: Array<() => Uint8Array>;
  dataBytes: number;
}

function attribute(name: string, v: AttrValue): object {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass { float: ${v} } for a float attribute`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}

function valueInfo(v: ValueRecord): object {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function bytesOf(a: TensorData): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Each piece's bytes, checked against the size the graph was encoded with. */
function checkedRead(name: string, lazy: LazyBytes): () => Uint8Array {
  return () => {
    const bytes = lazy.read();
    if (bytes.byteLength !== lazy.byteLength) throw new Error(`initializer ${name}: made ${bytes.byteLength} bytes, the graph says ${lazy.byteLength}`);
    return bytes;
  };
}

export class GraphBuilder {
  private readonly nodes: NodeRecord[] = [];
  private readonly tensors: TensorRecord[] = [];
  private readonly inputs: ValueRecord[] = [];
  private readonly outputs: ValueRecord[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name with the given stem. */
  fresh(stem: string): string {
    let name = `${stem}_${this.counter++}`;
    while (this.names.has(name)) name = `${stem}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node; returns its output names (made fresh from the op type unless given). */
  node(opType: string, inputs: string[], outputs: number | string[], attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    const out = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    for (const o of out) if (o !== '') this.names.add(o);
    this.nodes.push({
      opType,
      domain,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: out,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Single-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.node(opType, inputs, 1, attrs, domain)[0]!;
  }

  /** A constant tensor: an array of its type, or lazy bytes (`read` makes them when the blob is written). */
  initializer(name: string, dataType: DataTypeId, dims: number[], data: TensorData | LazyBytes): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const width = ELEMENT_BYTES[dataType];
    if ('read' in data) {
      if (data.byteLength !== count * width) throw new Error(`initializer ${name}: ${data.byteLength} bytes for shape [${dims.join(', ')}] of ${width}-byte elements`);
    } else if (data.length !== count) {
      throw new Error(`initializer ${name}: ${data.length} elements for shape [${dims.join(', ')}]`);
    }
    this.names.add(name);
    const bytes = 'read' in data ? data : { byteLength: data.byteLength, read: () => bytesOf(data) };
    this.tensors.push({ name, dataType, dims, bytes });
    return name;
  }

  /** A small int64 constant (shape [n], or a scalar with scalar = true). */
  int64(values: number[], scalar = false): string {
    return this.initializer(this.fresh('const_i64'), DataType.INT64, scalar ? [] : [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  input(name: string, elemType: DataTypeId, dims: Dim[]): string {
    this.names.add(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  output(name: string, elemType: DataTypeId, dims: Dim[]): void {
    this.outputs.push({ name, elemType, dims });
  }

  /**
   * Encodes the model. Initializers of EXTERNAL_MIN_BYTES or more are placed in the external
   * blob named `dataFile` (relative to the model file, or the key of an in-memory externalData entry).
   */
  encode(graphName: string, dataFile: string, metadata: Record<string, string> = {}): StreamedModel {
    const data: Array<() => Uint8Array> = [];
    let offset = 0;
    const initializer = this.tensors.map((t) => {
      if (t.bytes.byteLength < EXTERNAL_MIN_BYTES) return { name: t.name, dataType: t.dataType, dims: t.dims, rawData: checkedRead(t.name, t.bytes)() };
      const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (pad > 0) data.push(() => new Uint8Array(pad));
      offset += pad;
      const entry = {
        name: t.name,
        dataType: t.dataType,
        dims: t.dims,
        dataLocation: DATA_LOCATION_EXTERNAL,
        externalData: [
          { key: 'location', value: dataFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(t.bytes.byteLength) },
        ],
      };
      data.push(checkedRead(t.name, t.bytes));
      offset += t.bytes.byteLength;
      return entry;
    });
    const proto = {
      irVersion: IR_VERSION,
      producerName: 'limelight',
      opsetImport: [
        { domain: '', version: ONNX_OPSET },
        { domain: 'com.microsoft', version: MS_OPSET },
      ],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: graphName,
        node: this.nodes,
        initializer,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
    const model = ModelProto.encode(ModelProto.fromObject(proto)).finish();
    return { model, data, dataBytes: offset };
  }
}
