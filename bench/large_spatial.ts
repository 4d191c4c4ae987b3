/**
 * Peak memory and wall time of LPIPS spatial maps on large images: `deno run -A
 * bench/large_spatial.ts [--sizes 2048,4096] [--engines onnx,tfjs] [--net alex] [--untiled 2048]
 * [--tile 1024]`.
 *
 * For each size it writes two structured RGB PNGs (a pattern and a shifted, noisier copy) into a
 * temporary folder and runs, each in its own process under `/usr/bin/time -v` (peak RSS = its
 * "Maximum resident set size"):
 * - `cli.ts compare A B --spatial out.npy --engine E` (tiling is automatic above the budget);
 * - for each size in `--untiled`, the same pair through `LPIPS.distance(..., {spatial: true})`
 *   with `tile: false` and with `tile: --tile`, for an untiled / tiled comparison.
 * Prints one markdown table. A measurement, not a test: it takes minutes at 4096x4096.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { encode } from "fast-png";
import { LPIPS } from "../lpips/lpips.ts";
import { loadImage } from "../bappsloader/image.ts";
import { saveNpy } from "../bappsloader/npy.ts";
import { defaultTileSide, needsTiling } from "../lpips/tiled.ts";
import { arch, type NetName } from "../lpips/arch.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "2048,4096" },
    engines: { type: "string", default: "onnx,tfjs" },
    net: { type: "string", default: "alex" },
    untiled: { type: "string", default: "2048" },
    tile: { type: "string", default: "1024" },
    // Internal: run one in-process measurement (a child of this script).
    child: { type: "string" },
  },
});
const net = args.values.net as NetName;
const weightsDir = Deno.env.get("LPIPS_WEIGHTS_DIR") ??
  join(Deno.env.get("LPIPS_TEST_DATA") ?? "../shared", "weights");

if (args.values.child) {
  // child: "<engine> <tile side|untiled> A B OUT"
  const [engine, mode, a, b, out] = args.values.child.split(" ");
  const m = await LPIPS.create({ net, engine: engine as "onnx", weightsDir, quiet: true });
  const [x, y] = await Promise.all([loadImage(a), loadImage(b)]);
  const tile = mode === "untiled" ? false : Number(mode);
  const r = await m.distance(x, y, { spatial: true, tile });
  await saveNpy(out, r.map!.data, r.map!.shape);
  console.log(JSON.stringify({ distance: r.distance[0] }));
  m.dispose();
  Deno.exit(0);
}

/** An RGB8 PNG with edges, gradients and texture; `variant` 1 is shifted and noisier. */
function testPng(size: number, variant: number): Uint8Array {
  const px = new Uint8Array(size * size * 3);
  let s = 12345 + variant;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const noise = ((s >>> 0) % 64) - 32;
      const xx = x + 3 * variant, yy = y + 2 * variant;
      const v = [
        128 + 100 * Math.sin(xx / 37) * Math.cos(yy / 53),
        ((xx >> 5) + (yy >> 5)) % 2 ? 200 : 40,
        (xx * yy / size) % 256,
      ];
      for (let c = 0; c < 3; c++) {
        px[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, v[c] + noise * (variant + 1) / 2));
      }
    }
  }
  return encode({ width: size, height: size, data: px, channels: 3, depth: 8 });
}

/** Runs a command under /usr/bin/time -v: wall seconds and peak RSS in MiB. */
async function measure(cmd: string[]): Promise<{ wall: number; rssMiB: number; out: string }> {
  const t0 = performance.now();
  const r = await new Deno.Command("/usr/bin/time", { args: ["-v", ...cmd] }).output();
  const wall = (performance.now() - t0) / 1000;
  const err = new TextDecoder().decode(r.stderr);
  const out = new TextDecoder().decode(r.stdout);
  if (!r.success) throw new Error(`${cmd.join(" ")} failed:\n${err.slice(-2000)}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? NaN);
  return { wall, rssMiB: kb / 1024, out };
}

const dir = await Deno.makeTempDir({ prefix: "lpips_large_" });
const deno = Deno.execPath();
const perms = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
const rows: string[] = [
  `| ${net} | size | engine | run | tiled | wall (s) | peak RSS (MiB) | map mean |`,
  "|---|---|---|---|---|---|---|---|",
];
/** What the automatic choice does at this size. */
const auto = (size: number) =>
  needsTiling(arch(net), size, size) ? `auto: tile ${defaultTileSide(arch(net))}` : "auto: no";
const untiled = new Set(args.values.untiled.split(",").filter(Boolean).map(Number));
try {
  for (const size of args.values.sizes.split(",").map(Number)) {
    const a = join(dir, `a${size}.png`), b = join(dir, `b${size}.png`);
    await Deno.writeFile(a, testPng(size, 0));
    await Deno.writeFile(b, testPng(size, 1));
    for (const engine of args.values.engines.split(",")) {
      const out = join(dir, `map_${size}_${engine}.npy`);
      const cli = await measure([
        deno,
        "run",
        ...perms,
        "cli.ts",
        "compare",
        a,
        b,
        "--net",
        net,
        "--engine",
        engine,
        "--weights-dir",
        weightsDir,
        "--spatial",
        out,
        "--json",
      ]);
      const mean = JSON.parse(cli.out).map_mean as number;
      rows.push(
        `| | ${size} | ${engine} | compare --spatial | ${auto(size)} | ${cli.wall.toFixed(1)} | ${
          cli.rssMiB.toFixed(0)
        } | ${mean.toFixed(6)} |`,
      );
      console.error(rows[rows.length - 1]);
      if (!untiled.has(size)) continue;
      for (const mode of ["untiled", args.values.tile]) {
        const r = await measure([
          deno,
          "run",
          ...perms,
          "bench/large_spatial.ts",
          "--net",
          net,
          "--child",
          `${engine} ${mode} ${a} ${b} ${out}`,
        ]);
        const d = JSON.parse(r.out).distance as number;
        rows.push(
          `| | ${size} | ${engine} | distance({spatial}) | ${
            mode === "untiled" ? "no" : `tile ${mode}`
          } | ${r.wall.toFixed(1)} | ${r.rssMiB.toFixed(0)} | ${d.toFixed(6)} |`,
        );
        console.error(rows[rows.length - 1]);
      }
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(rows.join("\n"));
