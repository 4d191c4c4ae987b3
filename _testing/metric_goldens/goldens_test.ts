/**
 * Every classical metric against the numbers its authors' MATLAB code gives on the golden cases
 * (cases.ts, goldens.json): the tolerances are docs/algorithm.md §12.5's.
 */
import assert from "node:assert/strict";
import { needsTestData } from "../../_internal/test_data.ts";
import type { RGBImage } from "../../bappsloader/image.ts";
import { gmsdMap } from "../../baselines/gmsd.ts";
import { msssimScales } from "../../baselines/msssim.ts";
import { featureSimilarity } from "../../baselines/fsim.ts";
import { buildSource, GOLDEN_CASES } from "./cases.ts";

interface Golden {
  name: string;
  fsim: number | "NaN";
  fsimc: number | "NaN";
  gmsd: number;
  msssim: number | null | { re: number; im: number };
  gmsd_map: { h: number; w: number; sum: number; first: number; last: number };
}

const goldens: Golden[] = JSON.parse(
  await Deno.readTextFile(new URL("./goldens.json", import.meta.url)),
).cases;

/** Relative tolerance per metric, and the absolute floor for values of (nearly) zero. */
const TOL = {
  gmsd: { rel: 1e-11, abs: 1e-15 },
  msssim: { rel: 1e-11, abs: 1e-15 },
  fsim: { rel: 1e-11, abs: 1e-15 },
};

async function inputs(): Promise<[string, RGBImage, RGBImage][]> {
  const cache = new Map();
  const out: [string, RGBImage, RGBImage][] = [];
  for (const c of GOLDEN_CASES) {
    out.push([c.name, await buildSource(c.ref, cache), await buildSource(c.dist, cache)]);
  }
  return out;
}

function close(what: string, got: number, want: number, tol: { rel: number; abs: number }) {
  const err = Math.abs(got - want);
  assert.ok(
    err <= tol.rel * Math.abs(want) + tol.abs,
    `${what}: got ${got}, the authors' code ${want} (error ${err})`,
  );
}

Deno.test("goldens.json has one entry per case, in order", () => {
  assert.deepEqual(goldens.map((g) => g.name), GOLDEN_CASES.map((c) => c.name));
});

Deno.test(needsTestData("gmsd and its map match GMSD.m on every golden case"), async () => {
  for (const [i, [name, ref, dist]] of (await inputs()).entries()) {
    const g = goldens[i], r = gmsdMap(ref, dist);
    close(`${name} gmsd`, r.score, g.gmsd, TOL.gmsd);
    assert.deepEqual([r.height, r.width], [g.gmsd_map.h, g.gmsd_map.w], name);
    close(`${name} map sum`, r.map.reduce((a, b) => a + b, 0), g.gmsd_map.sum, TOL.gmsd);
    close(`${name} map[0]`, r.map[0], g.gmsd_map.first, TOL.gmsd);
    close(`${name} map[end]`, r.map[r.map.length - 1], g.gmsd_map.last, TOL.gmsd);
  }
});

Deno.test(
  needsTestData("msssim matches msssim.m on every golden case of 176 px or more"),
  async () => {
    let checked = 0;
    for (const [i, [name, ref, dist]] of (await inputs()).entries()) {
      const want = goldens[i].msssim;
      if (want === null) {
        assert.ok(Math.min(ref.width, ref.height) < 176, `${name}: msssim.m declined it`);
        assert.throws(() => msssimScales(ref, dist), /^RangeError: msssim: the images are /);
        continue;
      }
      const r = msssimScales(ref, dist);
      const [re, im] = typeof want === "number" ? [want, 0] : [want.re, want.im];
      close(`${name} msssim`, r.score, re, TOL.msssim);
      close(`${name} msssim (imaginary part)`, r.imaginary, im, TOL.msssim);
      checked++;
    }
    assert.equal(checked, 20);
  },
);

Deno.test(needsTestData("fsim and fsimc match FeatureSIM.m on every golden case"), async () => {
  let nan = 0;
  for (const [i, [name, ref, dist]] of (await inputs()).entries()) {
    const g = goldens[i], r = featureSimilarity(ref, dist);
    for (
      const [what, got, want] of [["fsim", r.fsim, g.fsim], ["fsimc", r.fsimc, g.fsimc]] as const
    ) {
      if (want === "NaN") {
        assert.ok(Number.isNaN(got), `${name} ${what}: got ${got}, the authors' code NaN`);
        nan++;
      } else close(`${name} ${what}`, got, want, TOL.fsim);
    }
  }
  assert.equal(nan, 2 * 8, "NaN cases: 1x1, 2x2, 1x7, 5x3, 2x3 and the three constant ones");
});
