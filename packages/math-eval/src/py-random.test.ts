import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { selectRecords } from "./evaluate.ts";
import { PyRandom } from "./py-random.ts";

// Produced by /usr/bin/python3 (CPython 3.11) running the harness's own selection lines: fixtures/harness_sample.py.
const fixture = JSON.parse(
  readFileSync(join(import.meta.dir, "../fixtures/harness-sample.json"), "utf8"),
) as {
  sizes: Record<string, number>;
  idx_is_position: Record<string, boolean>;
  runs: { seed: number; num_test_sample: number; tasks: string[]; selected: Record<string, number[]> }[];
  raw: Record<
    string,
    {
      getrandbits32: number[];
      random: number[];
      getrandbits70: string;
      randbelow: number[];
      shuffle10: number[];
      sample_pool: number[];
      sample_set: number[];
    }
  >;
};

describe("PyRandom is CPython's random, call for call", () => {
  for (const [seed, want] of Object.entries(fixture.raw)) {
    test(`seed ${seed}: getrandbits, random(), _randbelow, shuffle, sample (pool and set paths)`, () => {
      const r = new PyRandom(BigInt(seed));
      expect([0, 1, 2, 3, 4].map(() => Number(r.getrandbits(32)))).toEqual(want.getrandbits32);
      expect([0, 1, 2, 3, 4].map(() => r.random())).toEqual(want.random);
      expect(r.getrandbits(70).toString()).toBe(want.getrandbits70);
      expect([1, 2, 3, 10, 1000, 2 ** 31 + 5, 2 ** 40 + 3].map((n) => r.randbelow(n))).toEqual(
        want.randbelow,
      );
      expect(r.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual(want.shuffle10);
      expect(r.sample([...Array(20).keys()], 7)).toEqual(want.sample_pool);
      expect(r.sample([...Array(5000).keys()], 7)).toEqual(want.sample_set);
    });
  }

  test("a different seed gives a different stream; bad arguments are refused", () => {
    expect(new PyRandom(0).random()).not.toBe(new PyRandom(1).random());
    expect(new PyRandom(-5).random()).toBe(new PyRandom(5).random()); // Python seeds from |a|
    expect(() => new PyRandom(0).sample([1, 2, 3], 4)).toThrow("Sample larger than population");
    expect(() => new PyRandom(0).randbelow(-1)).toThrow(RangeError);
    expect(() => new PyRandom(0.5)).toThrow("seed must be an integer");
  });
});

describe("--num-test-sample selects the records math_eval.py selects", () => {
  for (const run of fixture.runs) {
    test(`seed ${run.seed}, N ${run.num_test_sample}, tasks ${run.tasks.join(",")}`, () => {
      const random = new PyRandom(run.seed);
      for (const task of run.tasks) {
        expect(fixture.idx_is_position[task]).toBe(true);
        const records = Array.from({ length: fixture.sizes[task] as number }, () => ({}));
        const picked = selectRecords(task as never, records, { numTestSample: run.num_test_sample, random });
        expect(picked.map((r) => r.idx)).toEqual(run.selected[task] as number[]);
      }
    });
  }

  test("no sample: every record in idx order, an idx added from the position; --limit takes the first N", () => {
    const records = [
      { idx: 2, q: "c" },
      { idx: 0, q: "a" },
      { idx: 1, q: "b" },
    ];
    expect(selectRecords("gsm8k", records, {}).map((r) => r.q)).toEqual(["a", "b", "c"]);
    expect(selectRecords("gsm8k", [{ q: "a" }, { q: "b" }], { limit: 1 })).toEqual([{ idx: 0, q: "a" }]);
    expect(() => selectRecords("gsm8k", [{}, {}], { numTestSample: 3 })).toThrow(
      "gsm8k: --num-test-sample 3 is larger than the dataset (2 records)",
    );
  });
});
