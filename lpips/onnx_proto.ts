/**
 * A minimal protobuf encoder for the few ONNX messages the ONNX engine needs (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), written from the field
 * numbers of onnx.proto. Encoding only; the graph is built in memory and handed to ONNX Runtime
 * as bytes.
 *
 * @module
 */

/** ONNX TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;
export const DOUBLE = 11;

/** An attribute value: number (int unless `float()`), string, number lists. */
export type AttrValue =
  | number
  | string
  | { float: number }
  | { ints: number[] }
  | { floats: number[] };

/** Accumulates protobuf fields of one message. */
class Writer {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  #push(b: Uint8Array): void {
    this.#parts.push(b);
    this.#length += b.length;
  }

  #varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.#push(Uint8Array.from(out));
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  /** varint field (int32, int64, enum). */
  int(field: number, v: number): this {
    this.#tag(field, 0);
    this.#varint(v);
    return this;
  }

  /** fixed32 float field. */
  float(field: number, v: number): this {
    this.#tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.#push(b);
    return this;
  }

  /** Length-delimited field: bytes, a string or an encoded sub-message. */
  bytes(field: number, v: Uint8Array | string): this {
    const b = typeof v === "string" ? new TextEncoder().encode(v) : v;
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#push(b);
    return this;
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): Writer {
  const shape = new Writer();
  for (const d of dims) {
    const dim = new Writer();
    if (typeof d === "number") dim.int(1, d);
    else dim.bytes(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer().int(1, elemType).message(2, shape);
  return new Writer().bytes(1, name).message(2, new Writer().message(1, tensorType));
}

function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer().bytes(1, name);
  if (typeof v === "number") return w.int(3, v).int(20, 2);
  if (typeof v === "string") return w.bytes(4, v).int(20, 3);
  if ("float" in v) return w.float(2, v.float).int(20, 1);
  if ("ints" in v) {
    for (const i of v.ints) w.int(8, i);
    return w.int(20, 7);
  }
  for (const f of v.floats) w.float(7, f);
  return w.int(20, 6);
}

/** Builds one ONNX graph and serialises it as a ModelProto. */
export class GraphBuilder {
  readonly #graph = new Writer();
  readonly #inits = new Writer();
  readonly #ios = new Writer();
  #count = 0;

  /** A fresh value name with a readable prefix. */
  name(prefix: string): string {
    return `${prefix}_${this.#count++}`;
  }

  /** Adds a node; returns its first output. Outputs default to one fresh name. */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs: string[] = [this.name(op.toLowerCase())],
  ): string {
    const w = new Writer();
    for (const i of inputs) w.bytes(1, i);
    for (const o of outputs) w.bytes(2, o);
    w.bytes(3, outputs[0]).bytes(4, op);
    for (const [k, v] of Object.entries(attrs)) w.message(5, attribute(k, v));
    this.#graph.message(1, w);
    return outputs[0];
  }

  /** A float32 or int64 constant (little-endian raw data). */
  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const w = new Writer();
    for (const d of dims) w.int(1, d);
    w.int(2, data instanceof Float32Array ? FLOAT : INT64).bytes(8, name);
    w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.#inits.message(5, w);
    return name;
  }

  /** An int64 vector constant (axes, shapes). */
  ints(values: number[]): string {
    return this.initializer(this.name("i64"), [values.length], BigInt64Array.from(values, BigInt));
  }

  /** A float32 constant. */
  floats(dims: number[], values: ArrayLike<number>): string {
    return this.initializer(this.name("f32"), dims, Float32Array.from(values));
  }

  /** A graph input; string dims are symbolic (dynamic). */
  input(name: string, dims: (number | string)[], elemType = FLOAT): string {
    this.#ios.message(11, valueInfo(name, elemType, dims));
    return name;
  }

  /** A graph output named `name` (float32 unless `elemType`), an Identity of `value` when the names differ. */
  output(name: string, value: string, dims: (number | string)[], elemType = FLOAT): void {
    if (value !== name) this.node("Identity", [value], {}, [name]);
    this.#ios.message(12, valueInfo(name, elemType, dims));
  }

  /** The serialised ModelProto (IR version 8, default-domain opset `opset`). */
  model(opset = 17): Uint8Array {
    const graph = new Writer();
    graph.bytes(2, "lpips");
    // Field order inside a message does not matter to protobuf parsers.
    const g = concat(
      this.#graph.finish(),
      this.#inits.finish(),
      this.#ios.finish(),
      graph.finish(),
    );
    return new Writer()
      .int(1, 8)
      .bytes(2, "@perceptual/lpips")
      .bytes(7, g)
      .message(8, new Writer().bytes(1, "").int(2, opset))
      .finish();
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
