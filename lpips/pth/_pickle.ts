/**
 * A restricted reader for Python pickles (protocols 2 to 5): enough of the pickle machine to
 * rebuild a PyTorch `state_dict`, and nothing that can run code.
 *
 * Every value a pickle can produce here is plain data (`null`, booleans, numbers, strings,
 * bytes, tuples, lists, dicts). A global reference (`GLOBAL`, `STACK_GLOBAL`) is looked up in an
 * allow-list that the caller supplies; any other name is refused the moment it is read, before
 * anything could call it. `REDUCE` and `NEWOBJ` only dispatch to the handler the caller
 * registered for an allowed global, and persistent ids go to the caller's `persistentLoad`.
 * Nothing is ever looked up by name at run time, so a hostile file cannot reach any function
 * that the allow-list does not name.
 *
 * The machine is an explicit loop over a value stack and a mark stack, never recursive, so deep
 * nesting cannot overflow the JS call stack; mark nesting and integer sizes are bounded. Nothing
 * here walks a produced value recursively either (lists can contain themselves through the memo).
 *
 * @module
 */

/** A malformed or refused pickle. `pth.ts` turns it into a `PthError` naming the file. */
export class PickleError extends Error {
  override name = "PickleError";
}

/** A Python tuple (immutable). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A Python list. */
export class PyList {
  readonly items: PyValue[] = [];
}

/** A Python dict or `collections.OrderedDict` (insertion order kept either way). */
export class PyDict {
  readonly map: Map<PyValue, PyValue> = new Map();
  constructor(readonly ordered = false) {}
}

/** A Python float (kept apart from ints so that a float is never taken for a size). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A reference to an allowed global such as `torch.FloatStorage` (never something callable). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name`, as Python prints it. */
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A value made by one of the caller's handlers (a tensor or storage description). */
export class PyBox<T = unknown> {
  constructor(readonly tag: string, readonly value: T) {}
}

/** Everything a pickle can produce here. Ints are `number` when safe, else `bigint`. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyFloat
  | PyTuple
  | PyList
  | PyDict
  | PyGlobal
  | PyBox;

/** What an allowed global does when a pickle calls it (`REDUCE`) or instantiates it (`NEWOBJ`). */
export interface GlobalHandler {
  /** `REDUCE`: the global called with `args`. Absent: calling it is refused. */
  call?(args: readonly PyValue[]): PyValue;
  /** `NEWOBJ`/`NEWOBJ_EX`: `cls.__new__(cls, *args)`. Absent: refused. */
  construct?(args: readonly PyValue[]): PyValue;
}

/** The caller's side of the restricted machine. */
export interface PickleHooks {
  /** Allowed globals, keyed `"module.name"`. Everything else is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** `BINPERSID`: turn a persistent id into a value. Absent: persistent ids are refused. */
  persistentLoad?(pid: PyValue): PyValue;
}

/** Bounds that keep a hostile pickle from using unbounded time or memory. */
const MAX_MARK_DEPTH = 1000;
const MAX_LONG_BYTES = 16;
const MAX_GLOBAL_LINE = 512;

/** Short kind name of a value, for error messages (not recursive). */
export function kindOf(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number" || typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PyFloat) return "float";
  if (v instanceof PyTuple) return `tuple of ${v.items.length}`;
  if (v instanceof PyList) return "list";
  if (v instanceof PyDict) return v.ordered ? "OrderedDict" : "dict";
  if (v instanceof PyGlobal) return `global ${v.qualname}`;
  return v.tag;
}

/** Opcode names, for messages about opcodes this reader does not implement. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Result of {@linkcode loadPickle}: the value and the offset just past its `STOP`. */
export interface PickleResult {
  value: PyValue;
  end: number;
}

/**
 * Runs one pickle that starts at `start` in `bytes` and returns its value and where it ended.
 * Throws {@linkcode PickleError} for anything malformed, truncated or not allowed.
 */
export function loadPickle(bytes: Uint8Array, start: number, hooks: PickleHooks): PickleResult {
  return new Machine(bytes, start, hooks).run();
}

class Machine {
  private pos: number;
  private stack: PyValue[] = [];
  private marks: PyValue[][] = [];
  private memo = new Map<number, PyValue>();
  private view: DataView;

  constructor(private bytes: Uint8Array, start: number, private hooks: PickleHooks) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleResult {
    for (;;) {
      const at = this.pos;
      if (at >= this.bytes.length) throw new PickleError(`pickle truncated at offset ${at}`);
      const op = this.bytes[at];
      this.pos = at + 1;
      try {
        if (this.step(op, at)) return { value: this.pop(), end: this.pos };
      } catch (e) {
        if (e instanceof PickleError && !e.message.includes(" at offset ")) {
          throw new PickleError(`${e.message} at offset ${at}`);
        }
        throw e;
      }
    }
  }

  /** Executes one opcode; returns true on STOP. */
  private step(op: number, at: number): boolean {
    switch (op) {
      case 0x80: { // PROTO
        const proto = this.u8();
        if (proto > 5) throw new PickleError(`unsupported pickle protocol ${proto}`);
        return false;
      }
      case 0x95: // FRAME: a length hint only
        this.take(8);
        return false;
      case 0x2e: // STOP
        if (this.marks.length) throw new PickleError("STOP inside an open MARK");
        if (this.stack.length !== 1) {
          throw new PickleError(`STOP with ${this.stack.length} values on the stack`);
        }
        return true;
      case 0x28: // MARK
        if (this.marks.length >= MAX_MARK_DEPTH) {
          throw new PickleError(`nesting deeper than ${MAX_MARK_DEPTH} marks`);
        }
        this.marks.push(this.stack);
        this.stack = [];
        return false;
      case 0x30: // POP
        if (this.stack.length) this.stack.pop();
        else this.popMark(); // Python pops a mark when the stack is empty
        return false;
      case 0x31: // POP_MARK
        this.popMark();
        return false;
      case 0x32: { // DUP
        const v = this.pop();
        this.stack.push(v, v);
        return false;
      }
      case 0x29: // EMPTY_TUPLE
        this.stack.push(new PyTuple([]));
        return false;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = op - 0x84;
        if (this.stack.length < n) throw new PickleError(`stack underflow`);
        this.stack.push(new PyTuple(this.stack.splice(this.stack.length - n, n)));
        return false;
      }
      case 0x74: { // TUPLE
        const items = this.popMark(); // (replaces this.stack: read it only afterwards)
        this.stack.push(new PyTuple(items));
        return false;
      }
      case 0x5d: // EMPTY_LIST
        this.stack.push(new PyList());
        return false;
      case 0x6c: { // LIST
        const items = this.popMark();
        const list = new PyList();
        for (const v of items) list.items.push(v);
        this.stack.push(list);
        return false;
      }
      case 0x7d: // EMPTY_DICT
        this.stack.push(new PyDict());
        return false;
      case 0x64: { // DICT
        const items = this.popMark();
        const dict = new PyDict();
        this.setItems(dict, items);
        this.stack.push(dict);
        return false;
      }
      case 0x4e: // NONE
        this.stack.push(null);
        return false;
      case 0x88: // NEWTRUE
        this.stack.push(true);
        return false;
      case 0x89: // NEWFALSE
        this.stack.push(false);
        return false;
      case 0x4b: // BININT1
        this.stack.push(this.u8());
        return false;
      case 0x4d: { // BININT2
        const p = this.take(2);
        this.stack.push(this.view.getUint16(p, true));
        return false;
      }
      case 0x4a: { // BININT
        const p = this.take(4);
        this.stack.push(this.view.getInt32(p, true));
        return false;
      }
      case 0x8a: // LONG1
        this.stack.push(this.long(this.u8()));
        return false;
      case 0x8b: { // LONG4
        const p = this.take(4);
        const n = this.view.getInt32(p, true);
        if (n < 0) throw new PickleError("LONG4 with a negative length");
        this.stack.push(this.long(n));
        return false;
      }
      case 0x47: { // BINFLOAT (big-endian)
        const p = this.take(8);
        this.stack.push(new PyFloat(this.view.getFloat64(p, false)));
        return false;
      }
      case 0x58: // BINUNICODE
        this.stack.push(this.text(this.len32()));
        return false;
      case 0x8c: // SHORT_BINUNICODE
        this.stack.push(this.text(this.u8()));
        return false;
      case 0x8d: // BINUNICODE8
        this.stack.push(this.text(this.len64()));
        return false;
      case 0x55: // SHORT_BINSTRING (torch.load decodes these as UTF-8)
        this.stack.push(this.text(this.u8()));
        return false;
      case 0x54: { // BINSTRING
        const p = this.take(4);
        const n = this.view.getInt32(p, true);
        if (n < 0) throw new PickleError("BINSTRING with a negative length");
        this.stack.push(this.text(n));
        return false;
      }
      case 0x43: // SHORT_BINBYTES
        this.stack.push(this.raw(this.u8()));
        return false;
      case 0x42: // BINBYTES
        this.stack.push(this.raw(this.len32()));
        return false;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        this.stack.push(this.raw(this.len64()));
        return false;
      case 0x71: // BINPUT
        this.memo.set(this.u8(), this.top());
        return false;
      case 0x72: { // LONG_BINPUT
        const p = this.take(4);
        this.memo.set(this.view.getUint32(p, true), this.top());
        return false;
      }
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        return false;
      case 0x68: // BINGET
        this.stack.push(this.memoGet(this.u8()));
        return false;
      case 0x6a: { // LONG_BINGET
        const p = this.take(4);
        this.stack.push(this.memoGet(this.view.getUint32(p, true)));
        return false;
      }
      case 0x61: { // APPEND
        const v = this.pop();
        this.listOf(this.top()).items.push(v);
        return false;
      }
      case 0x65: { // APPENDS
        const items = this.popMark();
        const list = this.listOf(this.top());
        for (const v of items) list.items.push(v);
        return false;
      }
      case 0x73: { // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.dictOf(this.top()), [k, v]);
        return false;
      }
      case 0x75: { // SETITEMS
        const items = this.popMark();
        this.setItems(this.dictOf(this.top()), items);
        return false;
      }
      case 0x63: { // GLOBAL
        const module = this.line();
        const name = this.line();
        this.stack.push(this.global(module, name));
        return false;
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw new PickleError("STACK_GLOBAL needs two strings");
        }
        this.stack.push(this.global(module, name));
        return false;
      }
      case 0x52: { // REDUCE
        const args = this.pop();
        const fn = this.pop();
        this.stack.push(this.invoke(fn, args, "call"));
        return false;
      }
      case 0x81: { // NEWOBJ
        const args = this.pop();
        const cls = this.pop();
        this.stack.push(this.invoke(cls, args, "construct"));
        return false;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size) {
          throw new PickleError("NEWOBJ_EX with keyword arguments is not supported");
        }
        this.stack.push(this.invoke(cls, args, "construct"));
        return false;
      }
      case 0x62: { // BUILD
        const state = this.pop();
        const obj = this.top();
        // A state_dict's OrderedDict carries `_metadata` as an attribute; it is ignored.
        if (!(obj instanceof PyDict)) {
          throw new PickleError(`BUILD on a ${kindOf(obj)} is not supported`);
        }
        if (!(state === null || state instanceof PyDict || state instanceof PyTuple)) {
          throw new PickleError(`BUILD with a ${kindOf(state)} state is not supported`);
        }
        return false;
      }
      case 0x51: { // BINPERSID
        const pid = this.pop();
        if (!this.hooks.persistentLoad) throw new PickleError("persistent ids are not allowed");
        this.stack.push(this.hooks.persistentLoad(pid));
        return false;
      }
      default: {
        const name = OPCODE_NAMES[op];
        const hex = `0x${op.toString(16).padStart(2, "0")}`;
        throw new PickleError(
          name
            ? `unsupported pickle opcode ${hex} (${name}) at offset ${at}`
            : `unknown pickle opcode ${hex} at offset ${at}`,
        );
      }
    }
  }

  private take(n: number): number {
    const p = this.pos;
    if (n > this.bytes.length - p) {
      throw new PickleError(`pickle truncated: needs ${n} more bytes at offset ${p}`);
    }
    this.pos = p + n;
    return p;
  }

  private u8(): number {
    return this.bytes[this.take(1)];
  }

  private len32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  private len64(): number {
    const p = this.take(8);
    const lo = this.view.getUint32(p, true);
    const hi = this.view.getUint32(p + 4, true);
    if (hi > 0x1fffff) throw new PickleError("8-byte length out of range");
    return hi * 2 ** 32 + lo;
  }

  private text(n: number): string {
    const p = this.take(n);
    try {
      return utf8.decode(this.bytes.subarray(p, p + n));
    } catch {
      throw new PickleError(`invalid UTF-8 string at offset ${p}`);
    }
  }

  private raw(n: number): Uint8Array {
    const p = this.take(n);
    return this.bytes.slice(p, p + n);
  }

  /** A two's-complement little-endian integer of `n` bytes (bounded). */
  private long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) throw new PickleError(`integer of ${n} bytes is too large`);
    const p = this.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[p + i]);
    if (this.bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  }

  /** A newline-terminated line (for GLOBAL), bounded in length. */
  private line(): string {
    const start = this.pos;
    const end = Math.min(this.bytes.length, start + MAX_GLOBAL_LINE);
    for (let i = start; i < end; i++) {
      if (this.bytes[i] === 0x0a) {
        this.pos = i + 1;
        try {
          return utf8.decode(this.bytes.subarray(start, i));
        } catch {
          throw new PickleError(`invalid UTF-8 in GLOBAL at offset ${start}`);
        }
      }
    }
    throw new PickleError(`unterminated GLOBAL name at offset ${start}`);
  }

  private global(module: string, name: string): PyGlobal {
    const key = `${module}.${name}`;
    if (!this.hooks.globals.has(key)) {
      throw new PickleError(`refuses to load global ${printable(key)}`);
    }
    return new PyGlobal(module, name);
  }

  private invoke(target: PyValue, args: PyValue, how: "call" | "construct"): PyValue {
    const op = how === "call" ? "REDUCE" : "NEWOBJ";
    if (!(target instanceof PyGlobal)) {
      throw new PickleError(`${op} on a ${kindOf(target)}, which is not callable`);
    }
    if (!(args instanceof PyTuple)) {
      throw new PickleError(`${op} of ${target.qualname} with a ${kindOf(args)} for arguments`);
    }
    const handler = this.hooks.globals.get(target.qualname)?.[how];
    if (!handler) {
      throw new PickleError(
        `refuses to ${how === "call" ? "call" : "instantiate"} ${target.qualname}`,
      );
    }
    return handler(args.items);
  }

  private top(): PyValue {
    if (!this.stack.length) throw new PickleError("stack underflow");
    return this.stack[this.stack.length - 1];
  }

  private pop(): PyValue {
    if (!this.stack.length) throw new PickleError("stack underflow");
    return this.stack.pop()!;
  }

  private popMark(): PyValue[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) throw new PickleError("no MARK to pop to");
    this.stack = outer;
    return items;
  }

  private memoGet(i: number): PyValue {
    if (!this.memo.has(i)) throw new PickleError(`memo slot ${i} is empty`);
    return this.memo.get(i)!;
  }

  private listOf(v: PyValue): PyList {
    if (!(v instanceof PyList)) throw new PickleError(`APPEND to a ${kindOf(v)}`);
    return v;
  }

  private dictOf(v: PyValue): PyDict {
    if (!(v instanceof PyDict)) throw new PickleError(`SETITEM on a ${kindOf(v)}`);
    return v;
  }

  private setItems(dict: PyDict, items: PyValue[]): void {
    if (items.length % 2) throw new PickleError("odd number of items for a dict");
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (k instanceof PyList || k instanceof PyDict) {
        throw new PickleError(`unhashable dict key (${kindOf(k)})`);
      }
      dict.map.set(k, items[i + 1]);
    }
  }
}

/** A name from a file, made safe to print in one line. */
function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}
