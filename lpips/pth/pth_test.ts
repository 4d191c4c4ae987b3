/**
 * Tests of the safe .pth reader/writer.
 *
 * Real-torch checks, done once by hand (torch is NOT needed to run these tests), on Debian 12
 * with `apt-get install -y python3-torch` (torch 1.13.1+dfsg, run as /usr/bin/python3):
 *
 * 1. torch.save output read by readPth. The two fixtures below (LEGACY_FIXTURE, ZIP_P4_FIXTURE)
 *    are the exact bytes written by:
 *
 *        import torch, collections
 *        torch.manual_seed(0)
 *        sd = collections.OrderedDict()
 *        sd["f32"] = torch.randn(2, 3)
 *        sd["f64"] = torch.randn(2, dtype=torch.float64)
 *        sd["f16"] = torch.tensor([1.0, -2.5, 6.1e-5, 65504.0]).half()
 *        sd["bf16"] = torch.tensor([1.0, -2.5, 3.0e38]).bfloat16()
 *        sd["i64"] = torch.tensor([1, -2, 3_000_000_000_000, -(2**62)])
 *        sd["i32"] = torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32)
 *        sd["i16"] = torch.tensor([1, -2, 300], dtype=torch.int16)
 *        sd["i8"] = torch.tensor([1, -2, 100], dtype=torch.int8)
 *        sd["u8"] = torch.tensor([1, 2, 255], dtype=torch.uint8)
 *        sd["b"] = torch.tensor([True, False, True])
 *        base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
 *        sd["base"] = base
 *        sd["transposed"] = base.transpose(0, 2)
 *        sd["slice"] = base[1, :, 1:3]
 *        sd["scalar"] = torch.tensor(3.5)
 *        sd["empty"] = torch.zeros(0, 3)
 *        sd["expanded"] = torch.tensor([1.0, 2.0]).expand(3, 2)
 *        sd["i64t"] = torch.arange(6).reshape(2, 3).t()
 *        sd["param"] = torch.nn.Parameter(torch.ones(2, 2))
 *        sd._metadata = collections.OrderedDict({"": {"version": 1}})
 *        torch.save(sd, "fx_legacy.pth", _use_new_zipfile_serialization=False)
 *        torch.save(sd, "fx_zip_p4.pth", pickle_protocol=4)
 *
 *    The expected values in FIXTURE_VALUES are `v.contiguous().reshape(-1).tolist()` of each.
 *    The same was done with `torch.nn.Sequential(Conv2d(3, 2, 1), BatchNorm2d(2)).state_dict()`
 *    (zip and legacy), and every value matched.
 * 2. writePth output read by torch.load: a file written by
 *    `writePth(new Map([["scalar", {shape: [], ...}], ["empty", {shape: [0, 3], ...}],
 *    ["vec", {shape: [5], data: [1, -2, 3.25, NaN, Infinity]}], ["w", {shape: [2, 3, 1, 1], ...}],
 *    ["big", {shape: [70000], ...}], ["ünï", {shape: [1], ...}]]), "written")` loaded with
 *    `torch.load("written.pth")` and `torch.load("written.pth", weights_only=True)` as an
 *    OrderedDict with the same keys, dtypes, shapes, C-order strides and values;
 *    `zipfile.ZipFile("written.pth").testzip()` returned None (CRCs good) and every entry's data
 *    starts on a 64-byte boundary; `nn.Conv2d(3, 2, 1, bias=False).load_state_dict(...)` took "w".
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { zipSync } from "fflate";
import {
  MAX_PTH_BYTES,
  type PthDType,
  PthError,
  type PthTensor,
  readPth,
  readPthFile,
  toFloat32,
  writePth,
} from "./pth.ts";
import { readZipDirectory, writeZip } from "./zip.ts";
import { needsTestData, testData } from "../../_internal/test_data.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

const enc = new TextEncoder();

/** Asserts that `fn` throws a PthError whose message starts with `name: ` and matches `re`. */
function throwsPth(fn: () => unknown, re: RegExp, name = "t.pth"): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PthError, `expected a PthError, got ${e}`);
    assert.ok(e.message.startsWith(`${name}: `), `message lacks the file name: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A piece of a hand-made pickle: opcode bytes. */
type Part = number | readonly number[] | Uint8Array;

function cat(...parts: Part[]): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") flat.push(p);
    else for (const b of p) flat.push(b);
  }
  return Uint8Array.from(flat);
}

const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  EMPTY_TUPLE: 0x29,
  EMPTY_LIST: 0x5d,
  EMPTY_DICT: 0x7d,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  APPEND: 0x61,
  BINPUT: 0x71,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  STACK_GLOBAL: 0x93,
} as const;

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

/** BINUNICODE */
function str(s: string): number[] {
  const b = enc.encode(s);
  return [0x58, ...u32(b.length), ...b];
}

/** An int as BININT when it fits, else LONG1. */
function int(n: number | bigint): number[] {
  if (typeof n === "number" && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
    return [0x4a, ...u32(n >>> 0)];
  }
  let x = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(x & 0xffn);
    out.push(b);
    x >>= 8n;
    if ((x === 0n && !(b & 0x80)) || (x === -1n && b & 0x80)) break;
  }
  return [0x8a, out.length, ...out];
}

/** BINFLOAT */
function float(v: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, false);
  return [0x47, ...b];
}

function glob(module: string, name: string): number[] {
  return [0x63, ...enc.encode(`${module}\n${name}\n`)];
}

/** One whole pickle: PROTO 2, the parts, STOP. */
function pickle(...parts: Part[]): Uint8Array {
  return cat(0x80, 2, ...parts, OP.STOP);
}

/** An int-or-raw-opcodes value of a tensor description. */
type IntPart = number | bigint | readonly number[];
const ip = (v: IntPart): Part => (typeof v === "number" || typeof v === "bigint" ? int(v) : v);

interface TensorSpec {
  storage: string;
  numel: IntPart;
  offset?: IntPart;
  shape: IntPart[];
  stride?: IntPart[];
  type?: string;
  /** Legacy persistent ids carry a sixth field (view metadata). */
  legacy?: boolean;
  view?: [number, number];
}

/** `_rebuild_tensor_v2(('storage', torch.X, key, 'cpu', numel), offset, shape, stride, ...)` */
function tensor(t: TensorSpec): Uint8Array {
  const shape = t.shape;
  const stride = t.stride ??
    shape.map((_, i) => shape.slice(i + 1).reduce<number>((a, d) => a * Number(d), 1));
  const view = t.view
    ? cat(OP.MARK, str("v"), int(t.view[0]), int(t.view[1]), OP.TUPLE)
    : cat(OP.NONE);
  return cat(
    glob("torch._utils", "_rebuild_tensor_v2"),
    OP.MARK,
    OP.MARK,
    str("storage"),
    glob("torch", t.type ?? "FloatStorage"),
    str(t.storage),
    str("cpu"),
    ip(t.numel),
    t.legacy ? view : [],
    OP.TUPLE,
    OP.BINPERSID,
    ip(t.offset ?? 0),
    OP.MARK,
    ...shape.map(ip),
    OP.TUPLE,
    OP.MARK,
    ...stride.map(ip),
    OP.TUPLE,
    OP.NEWFALSE,
    glob("collections", "OrderedDict"),
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.TUPLE,
    OP.REDUCE,
  );
}

/** `OrderedDict()` then SETITEMS of key -> value parts. */
function stateDict(items: [string, Part][]): Uint8Array {
  return cat(
    glob("collections", "OrderedDict"),
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.MARK,
    ...items.flatMap(([k, v]) => [str(k), v]),
    OP.SETITEMS,
  );
}

const MAGIC = 0x1950a86a20f9469cfc6cn;

interface LegacySpec {
  magic?: bigint;
  protocol?: number;
  little?: boolean;
  main: Uint8Array;
  keys: string[];
  storages: { count: bigint; data: Uint8Array }[];
}

/** A legacy-format file: five pickles, then the storages. */
function legacyFile(s: LegacySpec): Uint8Array {
  const parts: Part[] = [
    pickle(int(s.magic ?? MAGIC)),
    pickle(int(s.protocol ?? 1001)),
    pickle(
      OP.EMPTY_DICT,
      OP.MARK,
      str("protocol_version"),
      int(1001),
      str("little_endian"),
      s.little === false ? OP.NEWFALSE : OP.NEWTRUE,
      OP.SETITEMS,
    ),
    pickle(s.main),
    pickle(OP.EMPTY_LIST, OP.MARK, ...s.keys.map(str), 0x65),
  ];
  for (const st of s.storages) {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, st.count, true);
    parts.push(n, st.data);
  }
  return cat(...parts);
}

/** A one-tensor legacy file holding `values` in storage "0". */
function legacyOne(
  values: number[],
  spec: Partial<TensorSpec> = {},
  extra: Partial<LegacySpec> = {},
) {
  return legacyFile({
    main: stateDict([[
      "w",
      tensor({ storage: "0", numel: values.length, shape: [values.length], legacy: true, ...spec }),
    ]]),
    keys: ["0"],
    storages: [{ count: BigInt(values.length), data: f32bytes(values) }],
    ...extra,
  });
}

/** A zip-format file with the given pickle and storages, under folder `arc/`. */
function zipFile(main: Uint8Array, storages: Record<string, Uint8Array>, omit?: string) {
  return writeZip([
    { name: "arc/data.pkl", data: pickle(main) },
    ...Object.entries(storages)
      .filter(([k]) => k !== omit)
      .map(([k, data]) => ({ name: `arc/data/${k}`, data })),
    { name: "arc/version", data: enc.encode("3\n") },
  ]);
}

function decodeB64(s: string): Uint8Array {
  return Uint8Array.from(atob(s.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

// ---------------------------------------------------------------------------------------------
// Real files

interface TsvRow {
  file: string;
  key: string;
  shape: string;
  dtype: string;
  sha: string;
}

function tsvRows(): TsvRow[] {
  const lines = Deno.readTextFileSync(testData("weights", "tensors.tsv")).trim().split("\n");
  return lines.slice(1).map((l) => {
    const [file, key, shape, dtype, sha] = l.split("\t");
    return { file, key, shape, dtype, sha };
  });
}

Deno.test({
  ...needsTestData(
    "readPth: every real .pth matches tensors.tsv (keys, order, shape, dtype, sha256)",
  ),
  fn: async (t) => {
    const rows = tsvRows();
    const files = [...new Set(rows.map((r) => r.file))];
    assert.equal(files.length, 9);
    for (const file of files) {
      await t.step(file, () => {
        const state = readPth(Deno.readFileSync(testData("weights", file)), file);
        const expected = rows.filter((r) => r.file === file);
        assert.deepEqual([...state.keys()], expected.map((r) => r.key));
        for (const r of expected) {
          const tensor = state.get(r.key)!;
          assert.equal(tensor.shape.join("x"), r.shape, r.key);
          assert.equal(tensor.dtype, r.dtype, r.key);
          const d = toFloat32(tensor);
          assert.equal(sha256(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)), r.sha, r.key);
        }
      });
    }
  },
});

/** docs/algorithm.md §1.3: channel count and sum (6 decimals) of each lin layer. */
const LIN_SUMS: Record<string, [number, string][]> = {
  "v0.1/alex": [[64, "2.349532"], [192, "16.143027"], [384, "39.268439"], [256, "27.197178"], [
    256,
    "20.317177",
  ]],
  "v0.1/vgg": [[64, "6.925992"], [128, "8.858334"], [256, "17.515006"], [512, "51.521323"], [
    512,
    "47.034854",
  ]],
  "v0.1/squeeze": [
    [64, "5.690101"],
    [128, "1.185279"],
    [256, "16.326565"],
    [384, "71.012624"],
    [
      384,
      "37.370723",
    ],
    [512, "24.262872"],
    [512, "17.590553"],
  ],
  "v0.0/alex": [[64, "2.565887"], [192, "10.257388"], [384, "22.434314"], [256, "16.313913"], [
    256,
    "13.934519",
  ]],
  "v0.0/vgg": [[64, "3.641608"], [128, "1.960115"], [256, "1.123096"], [512, "20.106263"], [
    512,
    "25.689573",
  ]],
  "v0.0/squeeze": [
    [64, "5.301839"],
    [128, "1.145214"],
    [256, "8.885090"],
    [384, "38.112480"],
    [
      384,
      "22.990481",
    ],
    [512, "15.438675"],
    [512, "13.054787"],
  ],
};

Deno.test({
  ...needsTestData("readPth: lin-weight channel counts and sums match docs/algorithm.md §1.3"),
  fn: () => {
    for (const [file, layers] of Object.entries(LIN_SUMS)) {
      const state = readPth(
        Deno.readFileSync(testData("weights", "lpips", `${file}.pth`)),
        file,
      );
      assert.equal(state.size, layers.length, file);
      layers.forEach(([channels, sum], k) => {
        const w = state.get(`lin${k}.model.1.weight`)!;
        assert.deepEqual(w.shape, [1, channels, 1, 1], `${file} lin${k}`);
        let s = 0;
        for (const v of toFloat32(w)) {
          assert.ok(v >= 0, `${file} lin${k} has a negative weight`);
          s += v;
        }
        assert.equal(s.toFixed(6), sum, `${file} lin${k}`);
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Fixtures written by torch 1.13 (see the header comment)

const LEGACY_FIXTURE = `
gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5x
AohYCgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAmNjb2xs
ZWN0aW9ucwpPcmRlcmVkRGljdApxAClScQEoWAMAAABmMzJxAmN0b3JjaC5fdXRpbHMKX3JlYnVpbGRfdGVuc29yX3YyCnED
KChYBwAAAHN0b3JhZ2VxBGN0b3JjaApGbG9hdFN0b3JhZ2UKcQVYCQAAADU0MzM1NjYyNHEGWAMAAABjcHVxB0sGTnRxCFFL
AEsCSwOGcQlLA0sBhnEKiWgAKVJxC3RxDFJxDVgDAAAAZjY0cQ5oAygoaARjdG9yY2gKRG91YmxlU3RvcmFnZQpxD1gJAAAA
NTQzMzU2ODk2cRBoB0sCTnRxEVFLAEsChXESSwGFcROJaAApUnEUdHEVUnEWWAMAAABmMTZxF2gDKChoBGN0b3JjaApIYWxm
U3RvcmFnZQpxGFgJAAAANTQzMzY3MjMycRloB0sETnRxGlFLAEsEhXEbSwGFcRyJaAApUnEddHEeUnEfWAQAAABiZjE2cSBo
AygoaARjdG9yY2gKQkZsb2F0MTZTdG9yYWdlCnEhWAkAAAA0ODA3NzU1NTJxImgHSwNOdHEjUUsASwOFcSRLAYVxJYloAClS
cSZ0cSdScShYAwAAAGk2NHEpaAMoKGgEY3RvcmNoCkxvbmdTdG9yYWdlCnEqWAkAAAA1NDMzNjY1OTJxK2gHSwROdHEsUUsA
SwSFcS1LAYVxLoloAClScS90cTBScTFYAwAAAGkzMnEyaAMoKGgEY3RvcmNoCkludFN0b3JhZ2UKcTNYCQAAADQ4MDc3NjMw
NHE0aAdLA050cTVRSwBLA4VxNksBhXE3iWgAKVJxOHRxOVJxOlgDAAAAaTE2cTtoAygoaARjdG9yY2gKU2hvcnRTdG9yYWdl
CnE8WAkAAAA0ODA3NzY5NjBxPWgHSwNOdHE+UUsASwOFcT9LAYVxQIloAClScUF0cUJScUNYAgAAAGk4cURoAygoaARjdG9y
Y2gKQ2hhclN0b3JhZ2UKcUVYCQAAADQ4MDc3NzY2NHFGaAdLA050cUdRSwBLA4VxSEsBhXFJiWgAKVJxSnRxS1JxTFgCAAAA
dThxTWgDKChoBGN0b3JjaApCeXRlU3RvcmFnZQpxTlgJAAAANDgwNzc4MzY4cU9oB0sDTnRxUFFLAEsDhXFRSwGFcVKJaAAp
UnFTdHFUUnFVWAEAAABicVZoAygoaARjdG9yY2gKQm9vbFN0b3JhZ2UKcVdYCQAAADQ4MDc3OTA3MnFYaAdLA050cVlRSwBL
A4VxWksBhXFbiWgAKVJxXHRxXVJxXlgEAAAAYmFzZXFfaAMoKGgEaAVYCQAAADU0ODE4NTcyOHFgaAdLGE50cWFRSwBLAksD
SwSHcWJLDEsESwGHcWOJaAApUnFkdHFlUnFmWAoAAAB0cmFuc3Bvc2VkcWdoAygoaARoBVgJAAAANTQ4MTg1NzI4cWhoB0sY
TnRxaVFLAEsESwNLAodxaksBSwRLDIdxa4loAClScWx0cW1ScW5YBQAAAHNsaWNlcW9oAygoaARoBVgJAAAANTQ4MTg1NzI4
cXBoB0sYTnRxcVFLDUsDSwKGcXJLBEsBhnFziWgAKVJxdHRxdVJxdlgGAAAAc2NhbGFycXdoAygoaARoBVgJAAAANTQ4MTkx
OTIwcXhoB0sBTnRxeVFLACkpiWgAKVJxenRxe1JxfFgFAAAAZW1wdHlxfWgDKChoBGgFWAkAAAA1NDgxOTY1NDRxfmgHSwBO
dHF/UUsASwBLA4ZxgEsDSwGGcYGJaAApUnGCdHGDUnGEWAgAAABleHBhbmRlZHGFaAMoKGgEaAVYCQAAADU0ODE5Njk5MnGG
aAdLAk50cYdRSwBLA0sChnGISwBLAYZxiYloAClScYp0cYtScYxYBAAAAGk2NHRxjWgDKChoBGgqWAkAAAA1NDgxOTc3MTJx
jmgHSwZOdHGPUUsASwNLAoZxkEsBSwOGcZGJaAApUnGSdHGTUnGUWAUAAABwYXJhbXGVY3RvcmNoLl91dGlscwpfcmVidWls
ZF9wYXJhbWV0ZXIKcZZoAygoaARoBVgJAAAANTQ4MjAzODQwcZdoB0sETnRxmFFLAEsCSwKGcZlLAksBhnGaiWgAKVJxm3Rx
nFJxnYhoAClScZ6HcZ9ScaB1fXGhWAkAAABfbWV0YWRhdGFxomgAKVJxo1gAAAAAcaR9caVYBwAAAHZlcnNpb25xpksBc3Nz
Yi6AAl1xAChYCQAAADQ4MDc3NTU1MnEBWAkAAAA0ODA3NzYzMDRxAlgJAAAANDgwNzc2OTYwcQNYCQAAADQ4MDc3NzY2NHEE
WAkAAAA0ODA3NzgzNjhxBVgJAAAANDgwNzc5MDcycQZYCQAAADU0MzM1NjYyNHEHWAkAAAA1NDMzNTY4OTZxCFgJAAAANTQz
MzY2NTkycQlYCQAAADU0MzM2NzIzMnEKWAkAAAA1NDgxODU3MjhxC1gJAAAANTQ4MTkxOTIwcQxYCQAAADU0ODE5NjU0NHEN
WAkAAAA1NDgxOTY5OTJxDlgJAAAANTQ4MTk3NzEycQ9YCQAAADU0ODIwMzg0MHEQZS4DAAAAAAAAAIA/IMBifwMAAAAAAAAA
AQAAAP7///////9/AwAAAAAAAAABAP7/LAEDAAAAAAAAAAH+ZAMAAAAAAAAAAQL/AwAAAAAAAAABAAEGAAAAAAAAAFw/xT9Q
PJa+SXELwLaEET+h0Yq/LQWzvwIAAAAAAAAAYs3gS2/Q2T8YLa2ZHNHqPwQAAAAAAAAAAQAAAAAAAAD+/////////wAw7326
AgAAAAAAAAAAAMAEAAAAAAAAAAA8AMH/A/97GAAAAAAAAAAAAAAAAACAPwAAAEAAAEBAAACAQAAAoEAAAMBAAADgQAAAAEEA
ABBBAAAgQQAAMEEAAEBBAABQQQAAYEEAAHBBAACAQQAAiEEAAJBBAACYQQAAoEEAAKhBAACwQQAAuEEBAAAAAAAAAAAAYEAA
AAAAAAAAAAIAAAAAAAAAAACAPwAAAEAGAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAMAAAAAAAAABAAAAAAAAAAF
AAAAAAAAAAQAAAAAAAAAAACAPwAAgD8AAIA/AACAPw==`;

const ZIP_P4_FIXTURE = `
UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAASABAAZnhfemlwX3A0L2RhdGEucGtsRkIMAFpaWlpaWlpaWlpaWoAEla4EAAAA
AAAAjAtjb2xsZWN0aW9uc5SMC09yZGVyZWREaWN0lJOUKVKUKIwDZjMylIwMdG9yY2guX3V0aWxzlIwSX3JlYnVpbGRfdGVu
c29yX3YylJOUKCiMB3N0b3JhZ2WUjAV0b3JjaJSMDEZsb2F0U3RvcmFnZZSTlIwBMJSMA2NwdZRLBnSUUUsASwJLA4aUSwNL
AYaUiWgCKVKUdJRSlIwDZjY0lGgHKChoCGgJjA1Eb3VibGVTdG9yYWdllJOUjAExlGgNSwJ0lFFLAEsChZRLAYWUiWgCKVKU
dJRSlIwDZjE2lGgHKChoCGgJjAtIYWxmU3RvcmFnZZSTlIwBMpRoDUsEdJRRSwBLBIWUSwGFlIloAilSlHSUUpSMBGJmMTaU
aAcoKGgIaAmMD0JGbG9hdDE2U3RvcmFnZZSTlIwBM5RoDUsDdJRRSwBLA4WUSwGFlIloAilSlHSUUpSMA2k2NJRoBygoaAho
CYwLTG9uZ1N0b3JhZ2WUk5SMATSUaA1LBHSUUUsASwSFlEsBhZSJaAIpUpR0lFKUjANpMzKUaAcoKGgIaAmMCkludFN0b3Jh
Z2WUk5SMATWUaA1LA3SUUUsASwOFlEsBhZSJaAIpUpR0lFKUjANpMTaUaAcoKGgIaAmMDFNob3J0U3RvcmFnZZSTlIwBNpRo
DUsDdJRRSwBLA4WUSwGFlIloAilSlHSUUpSMAmk4lGgHKChoCGgJjAtDaGFyU3RvcmFnZZSTlIwBN5RoDUsDdJRRSwBLA4WU
SwGFlIloAilSlHSUUpSMAnU4lGgHKChoCGgJjAtCeXRlU3RvcmFnZZSTlIwBOJRoDUsDdJRRSwBLA4WUSwGFlIloAilSlHSU
UpSMAWKUaAcoKGgIaAmMC0Jvb2xTdG9yYWdllJOUjAE5lGgNSwN0lFFLAEsDhZRLAYWUiWgCKVKUdJRSlIwEYmFzZZRoBygo
aAhoC4wCMTCUaA1LGHSUUUsASwJLA0sEh5RLDEsESwGHlIloAilSlHSUUpSMCnRyYW5zcG9zZWSUaAcoKGgIaAtob2gNSxh0
lFFLAEsESwNLAoeUSwFLBEsMh5SJaAIpUpR0lFKUjAVzbGljZZRoBygoaAhoC2hvaA1LGHSUUUsNSwNLAoaUSwRLAYaUiWgC
KVKUdJRSlIwGc2NhbGFylGgHKChoCGgLjAIxMZRoDUsBdJRRSwApKYloAilSlHSUUpSMBWVtcHR5lGgHKChoCGgLjAIxMpRo
DUsAdJRRSwBLAEsDhpRLA0sBhpSJaAIpUpR0lFKUjAhleHBhbmRlZJRoBygoaAhoC4wCMTOUaA1LAnSUUUsASwNLAoaUSwBL
AYaUiWgCKVKUdJRSlIwEaTY0dJRoBygoaAhoNIwCMTSUaA1LBnSUUUsASwNLAoaUSwFLA4aUiWgCKVKUdJRSlIwFcGFyYW2U
aAWMEl9yZWJ1aWxkX3BhcmFtZXRlcpSTlGgHKChoCGgLjAIxNZRoDUsEdJRRSwBLAksChpRLAksBhpSJaAIpUpR0lFKUiGgC
KVKUh5RSlHV9lIwJX21ldGFkYXRhlGgCKVKUjACUfZSMB3ZlcnNpb26USwFzc3NiLlBLBwiung9SuQQAALkEAABQSwMEAAAI
CAAAAAAAAAAAAAAAAAAAAAAAABAACQBmeF96aXBfcDQvZGF0YS8wRkIFAFpaWlpaXD/FP1A8lr5JcQvAtoQRP6HRir8tBbO/
UEsHCGPRHtsYAAAAGAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEAAqAGZ4X3ppcF9wNC9kYXRhLzFGQiYAWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpizeBLb9DZPxgtrZkc0eo/UEsHCBJQBIQQAAAAEAAAAFBLAwQAAAgI
AAAAAAAAAAAAAAAAAAAAAAAAEQAxAGZ4X3ppcF9wNC9kYXRhLzEwRkItAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWgAAAAAAAIA/AAAAQAAAQEAAAIBAAACgQAAAwEAAAOBAAAAAQQAAEEEAACBBAAAwQQAAQEEAAFBB
AABgQQAAcEEAAIBBAACIQQAAkEEAAJhBAACgQQAAqEEAALBBAAC4QVBLBwiCQdxuYAAAAGAAAABQSwMEAAAICAAAAAAAAAAA
AAAAAAAAAAAAABEAIQBmeF96aXBfcDQvZGF0YS8xMUZCHQBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgAAYEBQSwcI
K/VlMgQAAAAEAAAAUEsDBAAAAAgAAAAAAAAAAAAAAAAAAAAAAAARAD0AZnhfemlwX3A0L2RhdGEvMTJGQjkAWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAA
AAARABEAZnhfemlwX3A0L2RhdGEvMTNGQg0AWlpaWlpaWlpaWlpaWgAAgD8AAABAUEsHCHalPy4IAAAACAAAAFBLAwQAAAgI
AAAAAAAAAAAAAAAAAAAAAAAAEQA5AGZ4X3ppcF9wNC9kYXRhLzE0RkI1AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAAwAAAAAAAAAEAAAAAAAAAAUAAAAAAAAA
UEsHCAzHxqEwAAAAMAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEQARAGZ4X3ppcF9wNC9kYXRhLzE1RkINAFpaWlpa
WlpaWlpaWloAAIA/AACAPwAAgD8AAIA/UEsHCFYUaOgQAAAAEAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEAAyAGZ4
X3ppcF9wNC9kYXRhLzJGQi4AWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgA8AMH/A/97
UEsHCEo8JFYIAAAACAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEAA6AGZ4X3ppcF9wNC9kYXRhLzNGQjYAWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpagD8gwGJ/UEsHCNrG7yoGAAAABgAAAFBL
AwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEAA8AGZ4X3ppcF9wNC9kYXRhLzRGQjgAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloBAAAAAAAAAP7/////////ADDvfboCAAAAAAAAAAAAwFBLBwhvx3Xw
IAAAACAAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABAAIgBmeF96aXBfcDQvZGF0YS81RkIeAFpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWgEAAAD+////////f1BLBwjLCQSFDAAAAAwAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABAA
NgBmeF96aXBfcDQvZGF0YS82RkIyAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
AQD+/ywBUEsHCEd8iewGAAAABgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEAA8AGZ4X3ppcF9wNC9kYXRhLzdGQjgA
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloB/mRQSwcIV9pjPgMAAAAD
AAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAQAD8AZnhfemlwX3A0L2RhdGEvOEZCOwBaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgEC/1BLBwgqPrfhAwAAAAMAAABQSwMEAAAICAAAAAAA
AAAAAAAAAAAAAAAAABAAPwBmeF96aXBfcDQvZGF0YS85RkI7AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAQABUEsHCLODhIkDAAAAAwAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAEQA+
AGZ4X3ppcF9wNC92ZXJzaW9uRkI6AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
WlpaWlpaWlozClBLBwjRnmdVAgAAAAIAAABQSwECAAAAAAgIAAAAAAAArp4PUrkEAAC5BAAAEgAAAAAAAAAAAAAAAAAAAAAA
ZnhfemlwX3A0L2RhdGEucGtsUEsBAgAAAAAICAAAAAAAAGPRHtsYAAAAGAAAABAAAAAAAAAAAAAAAAAACQUAAGZ4X3ppcF9w
NC9kYXRhLzBQSwECAAAAAAgIAAAAAAAAElAEhBAAAAAQAAAAEAAAAAAAAAAAAAAAAABoBQAAZnhfemlwX3A0L2RhdGEvMVBL
AQIAAAAACAgAAAAAAACCQdxuYAAAAGAAAAARAAAAAAAAAAAAAAAAAOAFAABmeF96aXBfcDQvZGF0YS8xMFBLAQIAAAAACAgA
AAAAAAAr9WUyBAAAAAQAAAARAAAAAAAAAAAAAAAAALAGAABmeF96aXBfcDQvZGF0YS8xMVBLAQIAAAAAAAgAAAAAAAAAAAAA
AAAAAAAAAAARAAAAAAAAAAAAAAAAABQHAABmeF96aXBfcDQvZGF0YS8xMlBLAQIAAAAACAgAAAAAAAB2pT8uCAAAAAgAAAAR
AAAAAAAAAAAAAAAAAIAHAABmeF96aXBfcDQvZGF0YS8xM1BLAQIAAAAACAgAAAAAAAAMx8ahMAAAADAAAAARAAAAAAAAAAAA
AAAAANgHAABmeF96aXBfcDQvZGF0YS8xNFBLAQIAAAAACAgAAAAAAABWFGjoEAAAABAAAAARAAAAAAAAAAAAAAAAAIAIAABm
eF96aXBfcDQvZGF0YS8xNVBLAQIAAAAACAgAAAAAAABKPCRWCAAAAAgAAAAQAAAAAAAAAAAAAAAAAOAIAABmeF96aXBfcDQv
ZGF0YS8yUEsBAgAAAAAICAAAAAAAANrG7yoGAAAABgAAABAAAAAAAAAAAAAAAAAAWAkAAGZ4X3ppcF9wNC9kYXRhLzNQSwEC
AAAAAAgIAAAAAAAAb8d18CAAAAAgAAAAEAAAAAAAAAAAAAAAAADWCQAAZnhfemlwX3A0L2RhdGEvNFBLAQIAAAAACAgAAAAA
AADLCQSFDAAAAAwAAAAQAAAAAAAAAAAAAAAAAHAKAABmeF96aXBfcDQvZGF0YS81UEsBAgAAAAAICAAAAAAAAEd8iewGAAAA
BgAAABAAAAAAAAAAAAAAAAAA3AoAAGZ4X3ppcF9wNC9kYXRhLzZQSwECAAAAAAgIAAAAAAAAV9pjPgMAAAADAAAAEAAAAAAA
AAAAAAAAAABWCwAAZnhfemlwX3A0L2RhdGEvN1BLAQIAAAAACAgAAAAAAAAqPrfhAwAAAAMAAAAQAAAAAAAAAAAAAAAAANML
AABmeF96aXBfcDQvZGF0YS84UEsBAgAAAAAICAAAAAAAALODhIkDAAAAAwAAABAAAAAAAAAAAAAAAAAAUwwAAGZ4X3ppcF9w
NC9kYXRhLzlQSwECAAAAAAgIAAAAAAAA0Z5nVQIAAAACAAAAEQAAAAAAAAAAAAAAAADTDAAAZnhfemlwX3A0L3ZlcnNpb25Q
SwYGLAAAAAAAAAAeAy0AAAAAAAAAAAASAAAAAAAAABIAAAAAAAAAZQQAAAAAAABSDQAAAAAAAFBLBgcAAAAAtxEAAAAAAAAB
AAAAUEsFBgAAAAASABIAZQQAAFINAAAAAA==`;

/** Expected `contiguous().reshape(-1).tolist()` of each fixture tensor (int64 as strings). */
const FIXTURE_VALUES: [string, PthDType, number[], (number | string)[]][] = [
  ["f32", "float32", [2, 3], [
    1.5409960746765137,
    -0.293428897857666,
    -2.1787893772125244,
    0.5684312582015991,
    -1.0845223665237427,
    -1.3985954523086548,
  ]],
  ["f64", "float64", [2], [0.4033468476292993, 0.8380263329976598]],
  ["f16", "float16", [4], [1.0, -2.5, 6.097555160522461e-05, 65504.0]],
  ["bf16", "bfloat16", [3], [1.0, -2.5, 3.00405527047391e+38]],
  ["i64", "int64", [4], ["1", "-2", "3000000000000", "-4611686018427387904"]],
  ["i32", "int32", [3], [1, -2, 2147483647]],
  ["i16", "int16", [3], [1, -2, 300]],
  ["i8", "int8", [3], [1, -2, 100]],
  ["u8", "uint8", [3], [1, 2, 255]],
  ["b", "bool", [3], [1, 0, 1]],
  ["base", "float32", [2, 3, 4], Array.from({ length: 24 }, (_, i) => i)],
  ["transposed", "float32", [4, 3, 2], [
    0,
    12,
    4,
    16,
    8,
    20,
    1,
    13,
    5,
    17,
    9,
    21,
    2,
    14,
    6,
    18,
    10,
    22,
    3,
    15,
    7,
    19,
    11,
    23,
  ]],
  ["slice", "float32", [3, 2], [13, 14, 17, 18, 21, 22]],
  ["scalar", "float32", [], [3.5]],
  ["empty", "float32", [0, 3], []],
  ["expanded", "float32", [3, 2], [1, 2, 1, 2, 1, 2]],
  ["i64t", "int64", [3, 2], ["0", "3", "1", "4", "2", "5"]],
  ["param", "float32", [2, 2], [1, 1, 1, 1]],
];

function checkFixture(state: Map<string, PthTensor>): void {
  assert.deepEqual([...state.keys()], FIXTURE_VALUES.map((f) => f[0]));
  for (const [key, dtype, shape, values] of FIXTURE_VALUES) {
    const t = state.get(key)!;
    assert.equal(t.dtype, dtype, key);
    assert.deepEqual(t.shape, shape, key);
    if (dtype === "int64") {
      assert.deepEqual([...(t.data as BigInt64Array)].map(String), values, key);
    } else if (dtype === "float64") {
      assert.deepEqual([...t.data as Float64Array], values, key);
    } else {
      assert.deepEqual([...toFloat32(t)], (values as number[]).map(Math.fround), key);
    }
  }
  // Native arrays of the right type, each owning its buffer.
  assert.ok(state.get("i16")!.data instanceof Int16Array);
  assert.ok(state.get("b")!.data instanceof Uint8Array);
  assert.ok(state.get("f16")!.data instanceof Uint16Array);
  assert.equal(state.get("slice")!.data.byteOffset, 0);
}

Deno.test("readPth: torch 1.13 legacy file (all dtypes, views, strides, Parameter, _metadata)", () => {
  checkFixture(readPth(decodeB64(LEGACY_FIXTURE), "fx_legacy.pth"));
});

Deno.test("readPth: torch 1.13 zip file, pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)", () => {
  checkFixture(readPth(decodeB64(ZIP_P4_FIXTURE), "fx_zip_p4.pth"));
});

Deno.test("readPth: legacy storage views and strided tensors from hand-made pickles", () => {
  const values = [0, 1, 2, 3, 4, 5];
  // a view [2, 5) of root storage "0"
  let state = readPth(legacyOne(values, { shape: [3], view: [2, 3] }), "t.pth");
  assert.deepEqual([...state.get("w")!.data], [2, 3, 4]);
  // 2x3 read transposed from a 3x2 layout, with an offset
  state = readPth(legacyOne(values, { shape: [2, 2], stride: [1, 2], offset: 1 }), "t.pth");
  assert.deepEqual([...state.get("w")!.data], [1, 3, 2, 4]);
  // an unaligned storage (legacy data starts at an arbitrary offset): values still exact
  state = readPth(legacyOne([1.5, -2.25, 3]), "t.pth");
  assert.deepEqual([...state.get("w")!.data], [1.5, -2.25, 3]);
  // input that is a view at an odd offset into a larger buffer (legacy and zip)
  for (
    const file of [
      legacyOne([1.5, -2.25, 3]),
      zipFile(stateDict([["w", tensor({ storage: "0", numel: 3, shape: [3] })]]), {
        "0": f32bytes([1.5, -2.25, 3]),
      }),
    ]
  ) {
    const padded = new Uint8Array(file.length + 7).fill(0x50);
    padded.set(file, 3);
    state = readPth(padded.subarray(3, 3 + file.length), "t.pth");
    assert.deepEqual([...state.get("w")!.data], [1.5, -2.25, 3]);
  }
});

// ---------------------------------------------------------------------------------------------
// Writing

Deno.test("writePth: round trip of several shapes, including a 0-dim scalar and empty tensors", () => {
  const state = new Map<string, { shape: number[]; data: Float32Array }>([
    ["scalar", { shape: [], data: Float32Array.of(3.5) }],
    ["empty", { shape: [0], data: new Float32Array(0) }],
    ["empty2", { shape: [0, 3], data: new Float32Array(0) }],
    ["vec", { shape: [5], data: Float32Array.of(1, -2, 3.25, NaN, Infinity) }],
    ["conv", { shape: [2, 3, 4, 5], data: Float32Array.from({ length: 120 }, (_, i) => i / 7) }],
    ["lin0.model.1.weight", { shape: [1, 64, 1, 1], data: new Float32Array(64).fill(0.25) }],
    ["big", { shape: [300, 300], data: Float32Array.from({ length: 90000 }, (_, i) => i) }],
    ["ünïcode key", { shape: [1], data: Float32Array.of(-0) }],
  ]);
  // a subarray at an odd offset is written from its own bytes only
  const backing = Float32Array.from({ length: 10 }, (_, i) => i);
  state.set("sub", { shape: [2, 2], data: backing.subarray(3, 7) });
  const bytes = writePth(state, "my-archive");
  const back = readPth(bytes, "my-archive.pth");
  assert.deepEqual([...back.keys()], [...state.keys()]);
  for (const [key, t] of state) {
    const r = back.get(key)!;
    assert.equal(r.dtype, "float32");
    assert.deepEqual(r.shape, t.shape, key);
    assert.deepEqual(r.data, Float32Array.from(t.data), key);
  }
  assert.ok(Object.is(back.get("ünïcode key")!.data[0], -0));
  // an empty state dict is fine too
  assert.equal(readPth(writePth(new Map())).size, 0);
});

Deno.test("writePth: torch's zip layout (stored, 64-byte aligned data, version 3)", () => {
  const bytes = writePth(
    new Map([["a", { shape: [3], data: Float32Array.of(1, 2, 3) }], [
      "b",
      { shape: [1], data: Float32Array.of(4) },
    ]]),
    "net",
  );
  const entries = readZipDirectory(bytes);
  assert.deepEqual([...entries.keys()], [
    "net/data.pkl",
    "net/byteorder",
    "net/data/0",
    "net/data/1",
    "net/version",
  ]);
  for (const e of entries.values()) {
    assert.equal(e.method, 0, e.name);
    assert.equal(e.dataOffset % 64, 0, e.name);
  }
  const v = entries.get("net/version")!;
  assert.equal(
    new TextDecoder().decode(bytes.subarray(v.dataOffset, v.dataOffset + v.size)),
    "3\n",
  );
  const d = entries.get("net/data/0")!;
  assert.deepEqual(bytes.subarray(d.dataOffset, d.dataOffset + d.size), f32bytes([1, 2, 3]));
  // deterministic output
  assert.deepEqual(
    writePth(new Map([["a", { shape: [1], data: Float32Array.of(1) }]])),
    writePth(new Map([["a", { shape: [1], data: Float32Array.of(1) }]])),
  );
});

Deno.test("writePth: refuses shapes that do not match the data, and bad archive names", () => {
  const one = (shape: number[], n: number) =>
    new Map([["w", { shape, data: new Float32Array(n) }]]);
  throwsPth(() => writePth(one([2, 2], 3), "out"), /shape \[2,2\] but 3 values/, "out");
  throwsPth(() => writePth(one([-1], 0), "out"), /invalid shape/, "out");
  throwsPth(() => writePth(one([1.5], 1), "out"), /invalid shape/, "out");
  throwsPth(() => writePth(one([], 0), "out"), /shape \[\] but 0 values/, "out");
  throwsPth(() => writePth(one([1], 1), "a/b"), /plain file name/, "a/b");
  throwsPth(() => writePth(one([1], 1), ""), /plain file name/, "");
});

Deno.test("toFloat32: converts every dtype", () => {
  const t = (dtype: PthDType, data: PthTensor["data"]): PthTensor => ({
    dtype,
    shape: [data.length],
    data,
  });
  const f32 = Float32Array.of(1, 2);
  assert.equal(toFloat32(t("float32", f32)), f32);
  assert.deepEqual(toFloat32(t("float64", Float64Array.of(0.1, -2))), Float32Array.of(0.1, -2));
  // float16: 1, -2, smallest subnormal, largest normal, +inf, -0, NaN
  const h = toFloat32(
    t("float16", Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x8000, 0x7e00)),
  );
  assert.deepEqual([...h.subarray(0, 6)], [1, -2, 2 ** -24, 65504, Infinity, -0]);
  assert.ok(Number.isNaN(h[6]));
  // bfloat16 is the top half of a float32
  assert.deepEqual(
    toFloat32(t("bfloat16", Uint16Array.of(0x3f80, 0xc020))),
    Float32Array.of(1, -2.5),
  );
  assert.deepEqual(
    toFloat32(t("int64", BigInt64Array.of(-3n, 1n << 40n))),
    Float32Array.of(-3, 2 ** 40),
  );
  assert.deepEqual(toFloat32(t("int32", Int32Array.of(-7))), Float32Array.of(-7));
  assert.deepEqual(toFloat32(t("int16", Int16Array.of(-7))), Float32Array.of(-7));
  assert.deepEqual(toFloat32(t("int8", Int8Array.of(-7))), Float32Array.of(-7));
  assert.deepEqual(toFloat32(t("uint8", Uint8Array.of(255))), Float32Array.of(255));
  assert.deepEqual(toFloat32(t("bool", Uint8Array.of(1, 0))), Float32Array.of(1, 0));
});

// ---------------------------------------------------------------------------------------------
// Robustness: every malformed input gives a PthError with a clear message

Deno.test({
  ...needsTestData("readPth: truncated real files fail cleanly (every 1/16th and a few bytes)"),
  fn: () => {
    for (
      const file of [
        "lpips/v0.1/alex.pth",
        "alexnet-owt-7be5be79.pth",
        "squeezenet1_1-b8a52dc0.pth",
      ]
    ) {
      const bytes = Deno.readFileSync(testData("weights", file));
      const cuts = new Set<number>([0, 1, 2, 10, 15, 16, 100]);
      for (let k = 1; k < 16; k++) cuts.add(Math.floor((bytes.length * k) / 16));
      for (const d of [1, 2, 3, 8, 21, 22, 23]) cuts.add(bytes.length - d);
      for (const cut of cuts) {
        throwsPth(
          () => readPth(bytes.subarray(0, cut), file),
          /truncated|remain|not a PyTorch|end-of-central|outside|missing|not a zip/,
          file,
        );
      }
    }
  },
});

Deno.test("readPth: empty input and bytes that are no .pth at all", () => {
  throwsPth(() => readPth(new Uint8Array(0), "t.pth"), /not a PyTorch file/);
  throwsPth(() => readPth(enc.encode("hello world"), "t.pth"), /not a PyTorch file/);
  const tar = new Uint8Array(600);
  tar.set(enc.encode("ustar"), 257);
  throwsPth(() => readPth(tar, "t.pth"), /tar archive/);
  throwsPth(() => readPth(enc.encode("PK\x03\x04 truncated"), "t.pth"), /end-of-central-directory/);
  // default name
  assert.throws(() => readPth(new Uint8Array(1)), (e: Error) => e.message.startsWith("<pth>: "));
});

Deno.test("readPth: wrong legacy magic number", () => {
  throwsPth(
    () => readPth(legacyOne([1], {}, { magic: 0x1950a86a20f9469cfc6dn }), "t.pth"),
    /wrong magic/,
  );
  throwsPth(() => readPth(legacyOne([1], {}, { magic: 7n }), "t.pth"), /wrong magic/);
});

Deno.test("readPth: wrong legacy protocol version", () => {
  throwsPth(
    () => readPth(legacyOne([1], {}, { protocol: 1000 }), "t.pth"),
    /protocol version 1000/,
  );
});

Deno.test("readPth: big-endian sys_info", () => {
  throwsPth(() => readPth(legacyOne([1], {}, { little: false }), "t.pth"), /big-endian/);
});

Deno.test("readPth: refuses any global outside the allow-list, naming it", () => {
  const attacks: [string, string][] = [
    ["os", "system"],
    ["posix", "system"],
    ["nt", "system"],
    ["builtins", "eval"],
    ["builtins", "exec"],
    ["builtins", "getattr"],
    ["__builtin__", "eval"],
    ["subprocess", "Popen"],
    ["torch", "load"],
    ["torch._utils", "_rebuild_from_type_v2"],
    ["collections", "defaultdict"],
    ["numpy.core.multiarray", "_reconstruct"],
  ];
  for (const [module, name] of attacks) {
    const call = cat(glob(module, name), str("echo pwned"), OP.TUPLE1, OP.REDUCE);
    const re = new RegExp(`refuses to load global ${module}\\.${name}\\b`);
    // legacy main pickle, zip data.pkl, and STACK_GLOBAL instead of GLOBAL
    throwsPth(() => readPth(legacyFile({ main: call, keys: [], storages: [] }), "t.pth"), re);
    throwsPth(() => readPth(zipFile(call, {}), "t.pth"), re);
    const stack = cat(str(module), str(name), OP.STACK_GLOBAL, str("x"), OP.TUPLE1, OP.REDUCE);
    throwsPth(() => readPth(zipFile(stack, {}), "t.pth"), re);
  }
  // refused even when never called, and even inside the header pickles
  throwsPth(() => readPth(zipFile(cat(glob("os", "system")), {}), "t.pth"), /global os\.system/);
  throwsPth(
    () => readPth(cat(pickle(glob("os", "system"), OP.EMPTY_TUPLE, OP.REDUCE)), "t.pth"),
    /refuses to load global os\.system/,
  );
});

Deno.test("readPth: allowed globals cannot be misused as callables", () => {
  // a storage type is allowed as a name, never as a function
  const callStorage = cat(glob("torch", "FloatStorage"), int(10), OP.TUPLE1, OP.REDUCE);
  throwsPth(
    () => readPth(zipFile(callStorage, {}), "t.pth"),
    /refuses to call torch\.FloatStorage/,
  );
  // REDUCE on a non-global, and with non-tuple arguments
  throwsPth(
    () => readPth(zipFile(cat(str("os.system"), OP.EMPTY_TUPLE, OP.REDUCE), {}), "t.pth"),
    /not callable/,
  );
  throwsPth(
    () =>
      readPth(
        zipFile(cat(glob("collections", "OrderedDict"), OP.EMPTY_LIST, OP.REDUCE), {}),
        "t.pth",
      ),
    /arguments/,
  );
  // wrong arity of a rebuild function
  throwsPth(
    () =>
      readPth(
        zipFile(cat(glob("torch._utils", "_rebuild_tensor_v2"), OP.EMPTY_TUPLE, OP.REDUCE), {}),
        "t.pth",
      ),
    /_rebuild_tensor_v2 with 0 arguments/,
  );
});

Deno.test("readPth: a storage of 2^50 elements fails before anything is allocated", () => {
  const huge = 2n ** 50n;
  // legacy: the persistent id and the storage header both claim 2^50 elements
  const legacy = legacyFile({
    main: stateDict([["w", tensor({ storage: "0", numel: huge, shape: [1], legacy: true })]]),
    keys: ["0"],
    storages: [{ count: huge, data: f32bytes([1]) }],
  });
  throwsPth(
    () => readPth(legacy, "t.pth"),
    /declares 1125899906842624 elements .* only 4 bytes remain/,
  );
  // legacy: a small persistent id, but a storage header of 2^50 (and 2^28: no 1 GB allocation)
  for (const count of [huge, 2n ** 28n, -1n]) {
    const f = legacyFile({
      main: stateDict([["w", tensor({ storage: "0", numel: 1, shape: [1], legacy: true })]]),
      keys: ["0"],
      storages: [{ count, data: f32bytes([1]) }],
    });
    throwsPth(() => readPth(f, "t.pth"), /declares -?\d+ elements/);
  }
  // zip: the persistent id claims 2^50 elements of a 4-byte entry
  const zip = zipFile(stateDict([["w", tensor({ storage: "0", numel: huge, shape: [1] })]]), {
    "0": f32bytes([1]),
  });
  throwsPth(() => readPth(zip, "t.pth"), /has 4 bytes, expected 1125899906842624 x 4/);
});

Deno.test("readPth: tensors reaching outside their storage", () => {
  const cases: [Partial<TensorSpec>, RegExp][] = [
    [{ shape: [2, 3] }, /reaches element 5 of a storage of 4/],
    [{ shape: [1], offset: 4 }, /reaches element 4 of a storage of 4/],
    [{ shape: [2], stride: [10] }, /reaches element 10/],
    [{ shape: [2], offset: 2 ** 52 }, /reaches element/],
    [{ shape: [2], stride: [2 ** 52] }, /reaches element/],
  ];
  for (const [spec, re] of cases) {
    throwsPth(() => readPth(legacyOne([1, 2, 3, 4], spec), "t.pth"), re);
    const zip = zipFile(
      stateDict([["w", tensor({ storage: "0", numel: 4, shape: [4], ...spec })]]),
      { "0": f32bytes([1, 2, 3, 4]) },
    );
    throwsPth(() => readPth(zip, "t.pth"), re);
  }
});

Deno.test("readPth: negative, fractional, huge and absurd shapes", () => {
  const cases: [Partial<TensorSpec>, RegExp][] = [
    [{ shape: [-1] }, /tensor size -1 is out of range/],
    [{ shape: [float(2)] }, /tensor size is a float, not an integer/],
    [{ shape: [2n ** 70n] }, /tensor size 1180591620717411303424 is out of range/],
    [{ shape: [str("4")] }, /tensor size is a str/],
    [{ shape: [2], stride: [-1] }, /tensor stride -1 is out of range/],
    [{ shape: [2], stride: [1, 1] }, /size and stride differ/],
    [{ shape: Array(65).fill(1) }, /65 dimensions/],
    [{ shape: [2 ** 40, 2 ** 40, 2 ** 40], stride: [0, 0, 0] }, /absurd shape/],
    [{ shape: [2 ** 20, 2 ** 20], stride: [0, 0] }, /exceeds the memory bound/],
    [{ offset: -3 }, /storage offset -3 is out of range/],
    [{ numel: -5 }, /storage size -5 is out of range/],
  ];
  for (const [spec, re] of cases) {
    throwsPth(() => readPth(legacyOne([1, 2, 3, 4], { shape: [4], ...spec }), "t.pth"), re);
  }
  // a stride-0 expansion within bounds is fine (torch saves expanded views as they are)
  const ok = readPth(legacyOne([1, 2], { shape: [3, 2], stride: [0, 1] }), "t.pth");
  assert.deepEqual([...ok.get("w")!.data], [1, 2, 1, 2, 1, 2]);
});

Deno.test("readPth: zip without the data/<key> entry of a storage", () => {
  const main = stateDict([
    ["a", tensor({ storage: "0", numel: 1, shape: [1] })],
    ["b", tensor({ storage: "1", numel: 1, shape: [1] })],
  ]);
  const storages = { "0": f32bytes([1]), "1": f32bytes([2]) };
  assert.equal(readPth(zipFile(main, storages), "t.pth").size, 2);
  throwsPth(() => readPth(zipFile(main, storages, "1"), "t.pth"), /missing entry arc\/data\/1/);
  // and without data.pkl at all
  const noPkl = writeZip([{ name: "arc/data/0", data: f32bytes([1]) }]);
  throwsPth(() => readPth(noPkl, "t.pth"), /without a <name>\/data\.pkl/);
});

Deno.test("readPth: zip records pointing outside the file", () => {
  const good = writePth(new Map([["w", { shape: [2], data: Float32Array.of(1, 2) }]]), "arc");
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = good.length - 22;
  const cdOffset = view(good).getUint32(end + 16, true);
  // the end record's central-directory offset, then its size
  let bad = good.slice();
  view(bad).setUint32(end + 16, 0xfffff000, true);
  throwsPth(() => readPth(bad, "t.pth"), /central directory .* lies outside the file/);
  bad = good.slice();
  view(bad).setUint32(end + 12, 0x7fffffff, true);
  throwsPth(() => readPth(bad, "t.pth"), /central directory .* lies outside the file/);
  // a central entry whose local header offset is outside the file
  bad = good.slice();
  view(bad).setUint32(cdOffset + 42, good.length + 100, true);
  throwsPth(() => readPth(bad, "t.pth"), /local header of arc\/data\.pkl is missing or outside/);
  // a central entry whose size runs past the end
  bad = good.slice();
  view(bad).setUint32(cdOffset + 20, 0x10000000, true);
  view(bad).setUint32(cdOffset + 24, 0x10000000, true);
  throwsPth(() => readPth(bad, "t.pth"), /data of arc\/data\.pkl lies outside the file/);
  // more entries claimed than the directory holds
  bad = good.slice();
  view(bad).setUint16(end + 10, 60000, true);
  throwsPth(() => readPth(bad, "t.pth"), /central directory entry \d+ is malformed/);
  // zip64 markers without a zip64 record
  bad = good.slice();
  view(bad).setUint32(end + 16, 0xffffffff, true);
  throwsPth(() => readPth(bad, "t.pth"), /zip64/);
});

Deno.test("readPth: memo references to missing slots", () => {
  for (const get of [[OP.BINGET, 7], [OP.LONG_BINGET, ...u32(123456)]]) {
    const main = stateDict([["w", cat(get)]]);
    throwsPth(() => readPth(zipFile(main, {}), "t.pth"), /memo slot \d+ is empty/);
  }
});

Deno.test("readPth: deep nesting bombs and self-referencing lists stay bounded", () => {
  // 100000 nested MARKs
  const marks = new Uint8Array(100_000).fill(OP.MARK);
  throwsPth(() => readPth(zipFile(marks, {}), "t.pth"), /nesting deeper than 1000 marks/);
  // 300,000 nested 1-tuples (no marks): built iteratively, then refused as a state dict
  const tuples = cat(int(1), new Uint8Array(300_000).fill(OP.TUPLE1));
  throwsPth(() => readPth(zipFile(tuples, {}), "t.pth"), /top-level object is a tuple of 1/);
  // ... and as a state dict value
  throwsPth(
    () => readPth(zipFile(stateDict([["w", tuples]]), {}), "t.pth"),
    /state dict value w is a tuple of 1, not a tensor/,
  );
  // a list that contains itself
  const cyclic = cat(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND);
  throwsPth(
    () => readPth(zipFile(stateDict([["w", cyclic]]), {}), "t.pth"),
    /state dict value w is a list/,
  );
  throwsPth(() => readPth(zipFile(cyclic, {}), "t.pth"), /top-level object is a list/);
});

Deno.test("readPth: deflate-compressed entries are read, with a size cap", () => {
  const state = new Map([
    ["a", { shape: [100, 10], data: Float32Array.from({ length: 1000 }, (_, i) => i % 7) }],
    ["b", { shape: [], data: Float32Array.of(-1) }],
  ]);
  const stored = writePth(state, "arc");
  const files: Record<string, [Uint8Array, { level: 9 }]> = {};
  for (const e of readZipDirectory(stored).values()) {
    files[e.name] = [stored.slice(e.dataOffset, e.dataOffset + e.size), { level: 9 }];
  }
  const deflated = zipSync(files);
  assert.ok(deflated.length < stored.length / 2);
  assert.ok([...readZipDirectory(deflated).values()].every((e) => e.method === 8));
  const back = readPth(deflated, "t.pth");
  assert.deepEqual(back.get("a")!.data, state.get("a")!.data);
  assert.deepEqual(back.get("b")!.data, Float32Array.of(-1));

  // patch a central-directory field of one entry
  const patch = (entry: string, field: number, value: number) => {
    const b = deflated.slice();
    const v = new DataView(b.buffer);
    const cd = v.getUint32(b.length - 22 + 16, true);
    for (let p = cd; p < b.length - 22;) {
      const nameLen = v.getUint16(p + 28, true);
      if (new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen)) === entry) {
        v.setUint32(p + field, value, true);
        return b;
      }
      p += 46 + nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    }
    throw new Error(`${entry} not found`);
  };
  // declared smaller than it inflates to: stopped at the declared size
  throwsPth(
    () => readPth(patch("arc/data.pkl", 24, 50), "t.pth"),
    /arc\/data\.pkl inflates to more than its declared 50 bytes/,
  );
  // declared larger than it inflates to
  throwsPth(
    () => readPth(patch("arc/data.pkl", 24, 5000), "t.pth"),
    /arc\/data\.pkl inflated to \d+ bytes, expected 5000/,
  );
  // declared absurdly large: refused before allocating
  throwsPth(
    () => readPth(patch("arc/data.pkl", 24, 0xfffffff0), "t.pth"),
    /over the \d+-byte limit|impossible compression ratio/,
  );
  // a storage entry whose declared size disagrees with its persistent id: refused before inflating
  throwsPth(
    () => readPth(patch("arc/data/0", 24, 100), "t.pth"),
    /has 100 bytes, expected 1000 x 4/,
  );
  // corrupt deflate data
  const corrupt = deflated.slice();
  const e0 = readZipDirectory(corrupt).get("arc/data/0")!;
  corrupt.fill(0xff, e0.dataOffset, e0.dataOffset + 8);
  throwsPth(() => readPth(corrupt, "t.pth"), /invalid deflate data|CRC-32|inflated to/);
  // an unsupported method
  throwsPth(() => readPth(patch("arc/data/0", 10, 14), "t.pth"), /compression method 14/);
});

Deno.test("readPth: corrupt stored data is caught by the CRC-32", () => {
  const good = writePth(new Map([["w", { shape: [2], data: Float32Array.of(1, 2) }]]), "arc");
  const e = readZipDirectory(good).get("arc/data/0")!;
  const bad = good.slice();
  bad[e.dataOffset] ^= 1;
  throwsPth(() => readPth(bad, "t.pth"), /CRC-32 mismatch in arc\/data\/0/);
});

Deno.test("readPth: unknown and unsupported opcodes name the byte and its offset", () => {
  throwsPth(
    () => readPth(zipFile(cat(0xff), {}), "t.pth"),
    /unknown pickle opcode 0xff at offset 2\b/,
  );
  throwsPth(
    () => readPth(zipFile(cat(0x69, ...enc.encode("os\nsystem\n")), {}), "t.pth"),
    /unsupported pickle opcode 0x69 \(INST\) at offset 2\b/,
  );
  throwsPth(() => readPth(zipFile(cat(0x97), {}), "t.pth"), /0x97 \(NEXT_BUFFER\)/);
  throwsPth(() => readPth(cat(0x80, 6, OP.STOP), "t.pth"), /unsupported pickle protocol 6/);
  // over-long integers are bounded
  throwsPth(
    () => readPth(zipFile(cat(0x8a, 200, new Uint8Array(200)), {}), "t.pth"),
    /integer of 200 bytes/,
  );
  throwsPth(
    () => readPth(zipFile(cat(0x8b, ...u32(0x7fffffff)), {}), "t.pth"),
    /integer of \d+ bytes is too large/,
  );
  // lengths past the end of the data
  throwsPth(() => readPth(zipFile(cat(0x58, ...u32(0xffffffff)), {}), "t.pth"), /truncated/);
  throwsPth(
    () => readPth(zipFile(cat(0x8d, ...u32(0), ...u32(0x10000)), {}), "t.pth"),
    /truncated/,
  );
  throwsPth(
    () => readPth(zipFile(cat(0x8d, ...u32(0), ...u32(0xffffffff)), {}), "t.pth"),
    /out of range/,
  );
  // stack misuse
  throwsPth(() => readPth(zipFile(cat(OP.REDUCE), {}), "t.pth"), /stack underflow/);
  throwsPth(() => readPth(zipFile(cat(OP.TUPLE), {}), "t.pth"), /no MARK/);
  throwsPth(() => readPth(zipFile(cat(int(1), int(2)), {}), "t.pth"), /STOP with 2 values/);
  throwsPth(() => readPth(zipFile(cat(0x58, ...u32(2), 0xff, 0xfe), {}), "t.pth"), /invalid UTF-8/);
});

Deno.test("readPth: pickles that are not a plain state dict of tensors", () => {
  const t1 = tensor({ storage: "0", numel: 1, shape: [1] });
  const s = { "0": f32bytes([1]) };
  throwsPth(() => readPth(zipFile(cat(OP.EMPTY_LIST), s), "t.pth"), /top-level object is a list/);
  throwsPth(() => readPth(zipFile(stateDict([["w", int(3)]]), s), "t.pth"), /value w is a int/);
  throwsPth(
    () => readPth(zipFile(cat(OP.EMPTY_DICT, int(1), t1, OP.SETITEM), s), "t.pth"),
    /key is a int, not a string/,
  );
  // a plain dict (not OrderedDict) and NEWOBJ OrderedDict are both fine
  assert.equal(readPth(zipFile(cat(OP.EMPTY_DICT, str("w"), t1, OP.SETITEM), s), "t.pth").size, 1);
  const newobj = cat(
    glob("collections", "OrderedDict"),
    OP.EMPTY_TUPLE,
    0x81,
    str("w"),
    t1,
    OP.SETITEM,
  );
  assert.equal(readPth(zipFile(newobj, s), "t.pth").size, 1);
  // BUILD with state on an OrderedDict (torch's _metadata) is ignored; on a tensor it is refused
  const withMeta = cat(
    stateDict([["w", t1]]),
    OP.EMPTY_DICT,
    str("_metadata"),
    OP.EMPTY_DICT,
    OP.SETITEM,
    0x62,
  );
  assert.equal(readPth(zipFile(withMeta, s), "t.pth").size, 1);
  throwsPth(
    () => readPth(zipFile(stateDict([["w", cat(t1, OP.EMPTY_DICT, 0x62)]]), s), "t.pth"),
    /BUILD on a tensor is not supported/,
  );
});

Deno.test("readPth: persistent ids and storage lists that do not add up", () => {
  // a persistent id that is not a storage
  const pid = (...fields: Part[]) =>
    stateDict([["w", cat(OP.MARK, ...fields, OP.TUPLE, OP.BINPERSID)]]);
  throwsPth(
    () => readPth(zipFile(pid(str("module"), str("x")), {}), "t.pth"),
    /unsupported persistent id/,
  );
  throwsPth(
    () =>
      readPth(
        zipFile(pid(str("storage"), str("torch.FloatStorage"), str("0"), str("cpu"), int(1)), {}),
        "t.pth",
      ),
    /names str, not a torch storage type/,
  );
  throwsPth(
    () =>
      readPth(
        zipFile(
          pid(str("storage"), glob("collections", "OrderedDict"), str("0"), str("cpu"), int(1)),
          {},
        ),
        "t.pth",
      ),
    /names global collections\.OrderedDict/,
  );
  // a storage type with a different element size than its entry
  const zip = zipFile(
    stateDict([["w", tensor({ storage: "0", numel: 1, shape: [1], type: "DoubleStorage" })]]),
    {
      "0": f32bytes([1]),
    },
  );
  throwsPth(() => readPth(zip, "t.pth"), /has 4 bytes, expected 1 x 8/);
  // legacy: key list and storages that disagree with the pickle
  const main = stateDict([["w", tensor({ storage: "0", numel: 1, shape: [1], legacy: true })]]);
  const one = { count: 1n, data: f32bytes([1]) };
  throwsPth(
    () => readPth(legacyFile({ main, keys: ["0", "9"], storages: [one, one] }), "t.pth"),
    /storage 9 is listed but no tensor uses it/,
  );
  throwsPth(
    () => readPth(legacyFile({ main, keys: [], storages: [] }), "t.pth"),
    /storage 0 is used but missing/,
  );
  throwsPth(
    () => readPth(legacyFile({ main, keys: ["0", "0"], storages: [one, one] }), "t.pth"),
    /listed twice/,
  );
  throwsPth(
    () =>
      readPth(
        legacyFile({ main, keys: ["0"], storages: [{ count: 2n, data: f32bytes([1, 2]) }] }),
        "t.pth",
      ),
    /holds 2 elements but its persistent id says 1/,
  );
  // one key named with two types
  const twoTypes = stateDict([
    ["a", tensor({ storage: "0", numel: 1, shape: [1] })],
    ["b", tensor({ storage: "0", numel: 1, shape: [1], type: "IntStorage" })],
  ]);
  throwsPth(
    () => readPth(zipFile(twoTypes, { "0": f32bytes([1]) }), "t.pth"),
    /two different types/,
  );
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: random corruption never produces anything but a result or a PthError

/** Applies byte overwrites and an optional truncation, then reads; returns what happened. */
function mutateAndRead(
  base: Uint8Array,
  muts: { at: number; value: number }[],
  cut: number | null,
) {
  const b = base.slice(0, cut === null ? base.length : cut % (base.length + 1));
  for (const m of muts) if (b.length) b[m.at % b.length] = m.value;
  const t0 = performance.now();
  try {
    readPth(b, "fuzz.pth");
  } catch (e) {
    if (!(e instanceof PthError)) throw e;
    assert.ok(e.message.startsWith("fuzz.pth: "));
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `one read took ${ms} ms`);
}

function fuzz(base: Uint8Array, hot: number, seed: number): void {
  const pos = fc.oneof(fc.integer({ min: 0, max: hot }), fc.nat({ max: base.length - 1 }));
  const mut = fc.record({ at: pos, value: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(fc.array(mut, { maxLength: 6 }), fc.option(fc.nat(), { freq: 4 }), (muts, cut) => {
      mutateAndRead(base, muts, cut);
    }),
    { seed, numRuns: 400 },
  );
}

Deno.test({
  ...needsTestData("fuzz: mutated/truncated lpips head (legacy) reads or throws PthError"),
  fn: () => {
    const base = Deno.readFileSync(testData("weights", "lpips", "v0.1", "alex.pth"));
    fuzz(base, 1400, 20240601); // the pickles take the first 1361 bytes
  },
});

Deno.test("fuzz: mutated/truncated writePth archive and legacy fixture read or throw PthError", () => {
  const zip = writePth(
    new Map([
      ["a.weight", { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
      ["a.bias", { shape: [2], data: Float32Array.of(-1, 1) }],
      ["s", { shape: [], data: Float32Array.of(0.5) }],
    ]),
    "arc",
  );
  fuzz(zip, zip.length - 1, 7);
  fuzz(decodeB64(LEGACY_FIXTURE), 2000, 11);
});

Deno.test("readPthFile: devices, FIFOs, folders and huge files are refused before reading", async () => {
  const refused = async (path: string, message: string) => {
    const rss = Deno.memoryUsage().rss, t0 = performance.now();
    await assert.rejects(readPthFile(path), { name: "PthError", message });
    assert.ok(performance.now() - t0 < 1000, `${path}: ${performance.now() - t0} ms`);
    assert.ok(Deno.memoryUsage().rss - rss < 100 * 1024 ** 2, `${path}: memory grew`);
  };
  await refused(
    "/dev/zero",
    "/dev/zero: cannot read (it is a character device, not a regular file)",
  );
  const dir = await Deno.makeTempDir();
  try {
    await refused(dir, `${dir}: cannot read (it is a folder, not a file)`);
    const fifo = `${dir}/model.pth`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await refused(fifo, `${fifo}: cannot read (it is a FIFO (named pipe), not a regular file)`);
    // 3 GB of zeros: not a zip archive nor a pickle stream, told from its first bytes.
    const zeros = `${dir}/zeros.pth`;
    await Deno.writeFile(zeros, new Uint8Array(0));
    await Deno.truncate(zeros, 3 * 1024 ** 3);
    await refused(
      zeros,
      `${zeros}: not a PyTorch file (neither a zip archive nor a legacy pickle stream)`,
    );
    // A zip archive's start and then more than MAX_PTH_BYTES: refused by its size.
    const big = `${dir}/big.pth`;
    await Deno.writeFile(big, Uint8Array.of(0x50, 0x4b, 3, 4));
    await Deno.truncate(big, MAX_PTH_BYTES + 1);
    await refused(
      big,
      `${big}: cannot read (it has ${
        MAX_PTH_BYTES + 1
      } bytes, over the limit of ${MAX_PTH_BYTES} ` +
        "for a weight file)",
    );
    // A real file still reads.
    const ok = `${dir}/ok.pth`;
    await Deno.writeFile(
      ok,
      writePth(new Map([["w", { shape: [2], data: Float32Array.of(1, 2) }]])),
    );
    assert.deepEqual(toFloat32((await readPthFile(ok)).get("w")!), Float32Array.of(1, 2));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
