import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { needsTestData, testData } from "../_internal/test_data.ts";
import {
  type NpyData,
  NpyError,
  npyScalar,
  npyToFloat64,
  parseNpy,
  readNpy,
  saveNpy,
  writeNpy,
} from "./npy.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));

/** A .npy file with an arbitrary header text (padded NumPy-style unless `pad` is false). */
function craft(
  header: string,
  body: Uint8Array,
  { version = 1, pad = true }: { version?: number; pad?: boolean } = {},
): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let text = header;
  if (pad) {
    const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
    text = header + " ".repeat(total - prefix - header.length - 1) + "\n";
  }
  const hb = new TextEncoder().encode(text);
  const out = new Uint8Array(prefix + hb.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, prefix);
  out.set(body, prefix + hb.length);
  return out;
}

const dict = (descr: string, shape: string, fortran = false) =>
  `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shape}, }`;

/** Encodes numbers with the given setter of DataView (explicit endianness). */
function encodeValues(
  values: (number | bigint)[],
  size: number,
  set: (dv: DataView, off: number, v: number | bigint) => void,
): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => set(dv, i * size, v));
  return out;
}

function assertNpyError(f: () => unknown, pattern: RegExp, name = "bad.npy"): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof NpyError, `expected NpyError, got ${e}`);
    assert.ok(e.message.startsWith(`${name}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test({
  ...needsTestData("reads every bapps-mini judge/same file as <f8 shape (1,) holding k/n"),
  fn: async () => {
    const folders = [
      ["2afc/val/traditional/judge", 5, 120],
      ["2afc/val/cnn/judge", 5, 120],
      ["2afc/train/traditional/judge", 2, 300],
      ["jnd/val/traditional/same", 3, 120],
      ["jnd/val/cnn/same", 3, 120],
    ] as const;
    for (const [folder, votes, count] of folders) {
      const dir = testData("bapps-mini", folder);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.equal(names.length, count, folder);
      for (const name of names) {
        const arr = await readNpy(`${dir}/${name}`);
        assert.equal(arr.dtype, "float64");
        assert.deepEqual(arr.shape, [1]);
        assert.equal(arr.fortranOrder, false);
        const v = npyScalar(arr, name);
        const k = Math.round(v * votes);
        assert.equal(v, k / votes, `${folder}/${name}`); // exactly the float64 k/n
      }
    }
  },
});

Deno.test({
  ...needsTestData("reads the reference float32 NCHW inputs and uint8 HxWx3 resize outputs"),
  fn: async () => {
    // sha256 prefixes of the raw data and the first two values, as numpy 2.4 reports them.
    const want: Record<string, [number[], string, number[]]> = {
      rand_1x3x100x100_a: [[1, 3, 100, 100], "f4a13f93965267a6", [
        0.22518984973430634,
        -0.9685990810394287,
      ]],
      rand_1x3x37x53_b: [[1, 3, 37, 53], "8e1ec3831ed63bbe", [
        -0.23793360590934753,
        -0.16730043292045593,
      ]],
      rand_1x3x64x96_a: [[1, 3, 64, 96], "888598cbfb324610", [
        -0.9982390999794006,
        -0.7396973967552185,
      ]],
      rand_2x3x64x64_b: [[2, 3, 64, 64], "b84259783f337aec", [
        -0.2064763605594635,
        0.6562553644180298,
      ]],
      rand_1x3x256x256_a: [[1, 3, 256, 256], "a87aaa7aebaf11cd", [
        -0.6244852542877197,
        -0.48658838868141174,
      ]],
    };
    for (const [name, [shape, sha, first]] of Object.entries(want)) {
      const arr = await readNpy(testData("reference", "inputs", `${name}.npy`));
      assert.equal(arr.dtype, "float32");
      assert.deepEqual(arr.shape, shape);
      const data = arr.data as Float32Array;
      assert.ok(data instanceof Float32Array);
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      assert.equal(createHash("sha256").update(bytes).digest("hex").slice(0, 16), sha, name);
      assert.deepEqual([data[0], data[1]], first);
      assert.ok(data.every((v) => v >= -1 && v <= 1));
    }
    const r = await readNpy(testData("reference", "resize", "photo_tidI04_w252_h256_resize64.npy"));
    assert.equal(r.dtype, "uint8");
    assert.deepEqual(r.shape, [65, 64, 3]);
  },
});

Deno.test("files written by numpy: Fortran order, float16, bool v3.0, big-endian 0-d v2.0", () => {
  const fortran = parseNpy(hex(
    "934e554d5059010076007b276465736372273a20273c6932272c2027666f727472616e5f6f7264657227" +
      "3a20547275652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020" +
      "202020202020202020202020202020202020202020202020202020202020202020202020202020202020" +
      "200a00007cfcd4fe50fba8fd24fa",
  ));
  assert.equal(fortran.fortranOrder, true);
  assert.deepEqual(fortran.shape, [2, 3]);
  assert.deepEqual([...fortran.data], [0, -300, -600, -900, -1200, -1500]);
  const half = parseNpy(hex(
    "934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f7264657227" +
      "3a2046616c73652c20277368617065273a2028362c292c207d2020202020202020202020202020202020" +
      "202020202020202020202020202020202020202020202020202020202020202020202020202020202020" +
      "200a003c00c0ff7b0100007c5435",
  ));
  assert.equal(half.dtype, "float16");
  assert.deepEqual([...half.data], [1, -2, 65504, 2 ** -24, Infinity, 0.3330078125]);
  const bool = parseNpy(hex(
    "934e554d50590300740000007b276465736372273a20277c6231272c2027666f727472616e5f6f726465" +
      "72273a2046616c73652c20277368617065273a2028312c2033292c207d20202020202020202020202020" +
      "202020202020202020202020202020202020202020202020202020202020202020202020202020202020" +
      "200a010001",
  ));
  assert.deepEqual([bool.dtype, bool.shape, [...bool.data], bool.version], [
    "bool",
    [1, 3],
    [1, 0, 1],
    [3, 0],
  ]);
  const scalar = parseNpy(hex(
    "934e554d50590200740000007b276465736372273a20273e6638272c2027666f727472616e5f6f726465" +
      "72273a2046616c73652c20277368617065273a2028292c207d2020202020202020202020202020202020" +
      "202020202020202020202020202020202020202020202020202020202020202020202020202020202020" +
      "200a401e000000000000",
  ));
  assert.deepEqual([scalar.dtype, scalar.shape, npyScalar(scalar)], ["float64", [], 7.5]);
});

Deno.test("every integer/float/bool dtype in both byte orders, C and Fortran order", () => {
  type Setter = (dv: DataView, o: number, v: number | bigint, le: boolean) => void;
  const types: [string, number, Setter, (number | bigint)[]][] = [
    ["i1", 1, (d, o, v) => d.setInt8(o, Number(v)), [-128, -1, 0, 1, 127, 5]],
    ["u1", 1, (d, o, v) => d.setUint8(o, Number(v)), [0, 1, 128, 255, 7, 9]],
    ["i2", 2, (d, o, v, le) => d.setInt16(o, Number(v), le), [-32768, -1, 0, 1, 32767, 300]],
    ["u2", 2, (d, o, v, le) => d.setUint16(o, Number(v), le), [0, 1, 256, 65535, 7, 258]],
    ["i4", 4, (d, o, v, le) => d.setInt32(o, Number(v), le), [
      -(2 ** 31),
      -1,
      0,
      1,
      2 ** 31 - 1,
      9,
    ]],
    ["u4", 4, (d, o, v, le) => d.setUint32(o, Number(v), le), [0, 1, 2 ** 32 - 1, 65536, 3, 4]],
    ["i8", 8, (d, o, v, le) => d.setBigInt64(o, BigInt(v), le), [
      -(2n ** 63n),
      -1n,
      0n,
      1n,
      2n ** 62n,
      5n,
    ]],
    ["u8", 8, (d, o, v, le) => d.setBigUint64(o, BigInt(v), le), [
      0n,
      1n,
      2n ** 64n - 1n,
      7n,
      8n,
      9n,
    ]],
    ["f2", 2, (d, o, v, le) => d.setUint16(o, Number(v), le), [
      0x3c00,
      0xc000,
      0x0001,
      0x8000,
      0x7bff,
      0x3555,
    ]],
    ["f4", 4, (d, o, v, le) => d.setFloat32(o, Number(v), le), [
      0.5,
      -1.25,
      Math.fround(1e30),
      -0,
      3,
      Math.fround(0.6),
    ]],
    ["f8", 8, (d, o, v, le) => d.setFloat64(o, Number(v), le), [0.6, -1e300, 5e-324, 1 / 3, 2, -7]],
  ];
  const halfValues = [1, -2, 2 ** -24, -0, 65504, 0.333251953125];
  for (const [code, size, set, values] of types) {
    const expected = code === "f2" ? halfValues : values;
    for (const le of [true, false]) {
      if (size === 1 && !le) continue;
      const descr = (size === 1 ? "|" : le ? "<" : ">") + code;
      const body = encodeValues(values, size, (d, o, v) => set(d, o, v, le));
      const arr = parseNpy(craft(dict(descr, "(2, 3)"), body), descr);
      assert.deepEqual(arr.shape, [2, 3]);
      assert.deepEqual([...arr.data], expected, descr);
      // The same elements stored column-major come back in row-major order.
      const colMajor = [0, 3, 1, 4, 2, 5].map((i) => values[i]);
      const fbody = encodeValues(colMajor, size, (d, o, v) => set(d, o, v, le));
      const farr = parseNpy(craft(dict(descr, "(2, 3)", true), fbody), descr);
      assert.equal(farr.fortranOrder, true);
      assert.deepEqual([...farr.data], expected, `${descr} fortran`);
    }
  }
  // bool ('|b1' and '?'), any non-zero byte is True.
  const b = parseNpy(craft(dict("|b1", "(4,)"), new Uint8Array([0, 1, 0, 2])));
  assert.deepEqual([b.dtype, [...b.data]], ["bool", [0, 1, 0, 1]]);
  assert.equal(parseNpy(craft(dict("?", "(1,)"), new Uint8Array([1]))).dtype, "bool");
  // Native order '=' and an 80-byte (old numpy) padding and an unpadded header.
  const eq = parseNpy(craft(dict("=f4", "(1,)"), new Uint8Array(new Float32Array([2.5]).buffer)));
  assert.equal(npyScalar(eq), 2.5);
  const h = dict("<f8", "(1,)");
  const old = craft(h + " ".repeat(80 - 10 - h.length - 1) + "\n", new Uint8Array(8), {
    pad: false,
  });
  assert.equal(npyScalar(parseNpy(old)), 0);
  assert.equal(npyScalar(parseNpy(craft(h, new Uint8Array(8), { pad: false }))), 0);
});

Deno.test("3-D Fortran order, 0-d, empty and Python-2 style headers", () => {
  const shape = [2, 3, 4];
  const cData = Float64Array.from({ length: 24 }, (_, i) => i);
  // Fortran: element (i,j,k) at i + 2j + 6k.
  const fData = new Float64Array(24);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) fData[i + 2 * j + 6 * k] = i * 12 + j * 4 + k;
    }
  }
  const f = parseNpy(craft(dict("<f8", "(2, 3, 4)", true), new Uint8Array(fData.buffer)));
  assert.deepEqual(f.shape, shape);
  assert.deepEqual([...f.data], [...cData]);
  const zeroD = parseNpy(craft(dict("<i4", "()"), new Uint8Array([5, 0, 0, 0])));
  assert.deepEqual([zeroD.shape, npyScalar(zeroD)], [[], 5]);
  const empty = parseNpy(craft(dict("<f4", "(0, 3)"), new Uint8Array(0)));
  assert.deepEqual([empty.shape, empty.data.length], [[0, 3], 0]);
  assertNpyError(() => npyScalar(empty, "bad.npy"), /exactly one element/);
  const py2 = parseNpy(
    craft(`{'descr': '<u1', 'fortran_order': False, 'shape': (1L, 2L), }`, new Uint8Array([3, 4])),
  );
  assert.deepEqual([py2.shape, [...py2.data]], [[1, 2], [3, 4]]);
  // Key order and quoting style do not matter.
  const reordered = parseNpy(
    craft(`{"shape": (1,), "fortran_order": False, "descr": "<u2"}`, new Uint8Array([1, 1])),
  );
  assert.equal(npyScalar(reordered), 257);
});

Deno.test("unsupported dtypes are refused, object arrays never evaluated", () => {
  for (
    const [descr, pattern] of [
      ["|O", /object arrays .* refused/],
      ["|O8", /object arrays .* refused/],
      ["<c8", /unsupported dtype '<c8'/],
      ["<U5", /unsupported dtype/],
      ["|S3", /unsupported dtype/],
      ["<M8[ns]", /unsupported dtype/],
      ["|V4", /unsupported dtype/],
      ["<f16", /unsupported dtype/],
      ["<f", /unsupported dtype/],
      ["b", /unsupported dtype/],
      ["|i4", /no byte order/],
    ] as const
  ) {
    assertNpyError(
      () => parseNpy(craft(dict(descr, "(1,)"), new Uint8Array(16)), "bad.npy"),
      pattern,
    );
  }
  const structured = `{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`;
  assertNpyError(() => parseNpy(craft(structured, new Uint8Array(4)), "bad.npy"), /structured/);
  // A header trying to smuggle code is just a syntax error for the literal parser.
  const evil =
    `{'descr': __import__('os').system('echo hi'), 'fortran_order': False, 'shape': (1,)}`;
  assertNpyError(() => parseNpy(craft(evil, new Uint8Array(4)), "bad.npy"), /corrupt header/);
});

Deno.test("corrupt and truncated files give an NpyError naming the file", () => {
  const good = writeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /too short/],
    ["magic", hex("894e554d50590100"), /too short/],
    ["magic2", good.map((b, i) => (i === 1 ? 0 : b)), /bad magic/],
    ["version", good.map((b, i) => (i === 6 ? 4 : b)), /unsupported .npy format version 4\.0/],
    ["minor", good.map((b, i) => (i === 7 ? 1 : b)), /version 1\.1/],
    ["header cut", good.slice(0, 40), /truncated header/],
    [
      "data cut",
      good.slice(0, good.length - 1),
      /data truncated: shape \(2, 2\) of float32 needs 16 bytes, file has 15/,
    ],
    [
      "huge shape",
      craft(dict("<f8", "(100000, 100000, 100000)"), new Uint8Array(8)),
      /data truncated/,
    ],
    ["neg shape", craft(dict("<f8", "(-1,)"), new Uint8Array(8)), /non-negative/],
    ["float shape", craft(dict("<f8", "(1.0,)"), new Uint8Array(8)), /corrupt header/],
    ["shape list", craft(dict("<f8", "[1]"), new Uint8Array(8)), /shape is not a tuple/],
    ["shape int", craft(dict("<f8", "(1)"), new Uint8Array(8)), /shape is not a tuple/],
    [
      "fortran",
      craft(`{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}`, new Uint8Array(8)),
      /fortran_order is not a bool/,
    ],
    [
      "missing key",
      craft(`{'descr': '<f8', 'shape': (1,)}`, new Uint8Array(8)),
      /exactly the keys/,
    ],
    [
      "extra key",
      craft(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}`, new Uint8Array(8)),
      /exactly the keys/,
    ],
    [
      "dup key",
      craft(
        `{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}`,
        new Uint8Array(8),
      ),
      /duplicate key/,
    ],
    ["not dict", craft(`('<f8', False, (1,))`, new Uint8Array(8)), /not a dict/],
    [
      "unterminated",
      craft(`{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}`, new Uint8Array(8)),
      /corrupt header/,
    ],
    [
      "open",
      craft(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,`, new Uint8Array(8)),
      /corrupt header/,
    ],
    [
      "trailing",
      craft(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x`, new Uint8Array(8)),
      /corrupt header/,
    ],
    ["deep", craft("(".repeat(100) + ")".repeat(100), new Uint8Array(8)), /corrupt header/],
    [
      "v2 cut",
      craft(dict("<f8", "(1,)"), new Uint8Array(8), { version: 2 }).slice(0, 11),
      /truncated header length/,
    ],
    [
      "utf8",
      craft(dict("<f8", "(1,)"), new Uint8Array(8), { version: 3 }).map((
        b,
        i,
      ) => (i === 14 ? 0xff : b)),
      /not valid UTF-8/,
    ],
  ];
  for (const [what, bytes, pattern] of cases) {
    try {
      assertNpyError(() => parseNpy(bytes, "bad.npy"), pattern);
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
  }
  // A huge declared header length is caught before reading.
  const big = good.slice();
  new DataView(big.buffer).setUint16(8, 0xffff, true);
  assertNpyError(() => parseNpy(big, "bad.npy"), /truncated header/);
});

Deno.test("readNpy names the file when it is missing or corrupt", async () => {
  await assert.rejects(readNpy("/nonexistent/j.npy"), (e: Error) => {
    assert.ok(e instanceof NpyError);
    assert.match(e.message, /^\/nonexistent\/j\.npy: cannot read/);
    return true;
  });
  const dir = await Deno.makeTempDir();
  try {
    const p = `${dir}/000001.npy`;
    await Deno.writeFile(p, writeNpy(new Float64Array([0.2]), [1]).slice(0, 130));
    await assert.rejects(readNpy(p), new RegExp(`^NpyError: ${p}: data truncated`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readNpy: a device or FIFO is refused at once; a huge file costs only its array", async () => {
  await assert.rejects(readNpy("/dev/zero"), {
    name: "NpyError",
    message: "/dev/zero: cannot read (it is a character device, not a regular file)",
  });
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/same.npy`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await assert.rejects(readNpy(fifo), {
      message: `${fifo}: cannot read (it is a FIFO (named pipe), not a regular file)`,
    });
    // One float64 and then 3 GB (sparse) that NumPy would ignore: only the array is read.
    const big = `${dir}/judge.npy`;
    await Deno.writeFile(big, writeNpy(new Float64Array([0.75]), [1]));
    await Deno.truncate(big, 3 * 1024 ** 3);
    const rss = Deno.memoryUsage().rss, t0 = performance.now();
    assert.deepEqual((await readNpy(big)).data, Float64Array.of(0.75));
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
    assert.ok(Deno.memoryUsage().rss - rss < 100 * 1024 ** 2, "nothing large was allocated");
    // A header declaring more than the file holds is still refused before allocation.
    await Deno.writeFile(big, writeNpy(new Float64Array([0.75]), [1]).slice(0, 128));
    await assert.rejects(
      readNpy(big),
      /judge\.npy: data truncated: shape \(1\) of float64 needs 8 bytes, file has 0/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeNpy round-trips every array type and pads like numpy", async () => {
  const arrays: [NpyData, number[], string][] = [
    [new Float32Array([0.5, -1, 3.25, 1e-8]), [1, 1, 2, 2], "float32"],
    [new Float64Array([Math.PI]), [], "float64"],
    [new Uint8Array([0, 255, 7]), [3], "uint8"],
    [new Int8Array([-5, 5]), [2, 1], "int8"],
    [new Int16Array([-300]), [1], "int16"],
    [new Uint16Array([65535]), [1], "uint16"],
    [new Int32Array([-1, 2, -3]), [3], "int32"],
    [new Uint32Array([4e9]), [1], "uint32"],
    [new BigInt64Array([-(2n ** 62n)]), [1], "int64"],
    [new BigUint64Array([2n ** 64n - 1n]), [1], "uint64"],
  ];
  for (const [data, shape, dtype] of arrays) {
    const bytes = writeNpy(data, shape);
    const headerLen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + headerLen) % 64, 0);
    assert.equal(bytes[10 + headerLen - 1], 0x0a);
    const back = parseNpy(bytes);
    assert.deepEqual([back.dtype, back.shape, [...back.data]], [dtype, shape, [...data]]);
  }
  // A view with an offset writes only its own elements.
  const view = new Float32Array([9, 1, 2, 9]).subarray(1, 3);
  assert.deepEqual([...parseNpy(writeNpy(view, [2])).data], [1, 2]);
  // The exact header numpy writes for a float32 (1,1,2,2) array.
  const text = new TextDecoder().decode(
    writeNpy(new Float32Array(4), [1, 1, 2, 2]).subarray(10, 128),
  );
  assert.equal(text.trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2), }");
  const b = parseNpy(writeNpy(new Uint8Array([1, 0]), [2], { bool: true }));
  assert.equal(b.dtype, "bool");
  assert.throws(() => writeNpy(new Float32Array(3), [2, 2]), RangeError);
  assert.deepEqual([...npyToFloat64(parseNpy(writeNpy(new BigInt64Array([-3n]), [1])))], [-3]);
  // A header too long for version 1.0 switches to 2.0.
  const many = writeNpy(new Uint8Array(1), Array(22000).fill(1));
  assert.equal(many[6], 2);
  assert.equal((12 + new DataView(many.buffer).getUint32(8, true)) % 64, 0);
  assertNpyError(() => parseNpy(many, "bad.npy"), /22000 dimensions/);
  const dir = await Deno.makeTempDir();
  try {
    await saveNpy(`${dir}/m.npy`, new Float32Array([1, 2]), [1, 2]);
    assert.deepEqual([...(await readNpy(`${dir}/m.npy`)).data], [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: mutated and truncated files parse or throw NpyError, nothing else", () => {
  const seeds = [
    writeNpy(new Float64Array([0.6]), [1]),
    writeNpy(new Float32Array(6), [1, 2, 3]),
    craft(dict(">i2", "(2, 2)", true), new Uint8Array(8), { version: 2 }),
    craft(dict("|b1", "(3,)"), new Uint8Array(3), { version: 3 }),
  ];
  const header = (b: Uint8Array) => 10 + (b[8] | (b[9] << 8)) + (b[6] === 1 ? 0 : 2);
  const mutation = fc.record({
    seed: fc.nat(seeds.length - 1),
    edits: fc.array(
      fc.record({ at: fc.nat(200), byte: fc.integer({ min: 0, max: 255 }) }),
      { maxLength: 6 },
    ),
    text: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    textAt: fc.nat(120),
    cut: fc.option(fc.nat(200), { nil: undefined }),
  });
  fc.assert(
    fc.property(mutation, ({ seed, edits, text, textAt, cut }) => {
      let b = seeds[seed].slice();
      const limit = header(seeds[seed]);
      for (const { at, byte } of edits) b[at % b.length] = byte;
      if (text !== undefined) {
        const t = new TextEncoder().encode(text);
        b.set(t.subarray(0, Math.max(0, limit - 8 - (textAt % limit))), 8 + (textAt % limit));
      }
      if (cut !== undefined) b = b.slice(0, cut);
      try {
        const arr = parseNpy(b, "fuzz.npy");
        assert.equal(
          arr.data.length,
          arr.shape.reduce((a, d) => a * d, 1),
        );
      } catch (e) {
        if (!(e instanceof NpyError)) throw e;
        assert.match(e.message, /^fuzz\.npy: /);
      }
    }),
    { seed: 20180110, numRuns: 3000 },
  );
});
