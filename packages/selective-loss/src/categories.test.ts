import { describe, expect, test } from "bun:test";
import { tokenCategories } from "./categories.ts";

describe("tokenCategories (paper Fig. 3 / App. B.1 rule)", () => {
  // Four checkpoints (x = 0..3) for six tokens; losses[c][i].
  // token 0: 3, 2.5, 2, 1.5   -> slope −0.5, ΔL = −1.5 → H→L
  // token 1: 1, 1.2, 1.4, 1.6 -> slope +0.2, ΔL = +0.6 → L→H
  // token 2: 1, 1.1, 0.9, 1.0 -> slope −0.02, ΔL = −0.06 (small); last 1.0 ≤ mean last → L→L
  // token 3: 4, 4.1, 3.9, 4.0 -> ΔL = −0.06; last 4.0 > mean last → H→H
  // token 4: 2, 2, 2, 2.25    -> slope: x−x̄ = [−1.5,−.5,.5,1.5], y−ȳ = [−.0625,−.0625,−.0625,.1875]; sxy = .375, sxx = 5,
  //                              slope .075, ΔL = .225 > .2 → L→H (though the last step alone is only +0.25)
  // token 5: NaN at checkpoint 2 -> skipped
  // mean last over tokens 0..4 = (1.5 + 1.6 + 1.0 + 4.0 + 2.25) / 5 = 2.07
  const losses = [
    [3, 1, 1, 4, 2, 1],
    [2.5, 1.2, 1.1, 4.1, 2, 1],
    [2, 1.4, 0.9, 3.9, 2, Number.NaN],
    [1.5, 1.6, 1.0, 4.0, 2.25, 1],
  ];

  test("categorises each token with hand-computed ΔL", () => {
    const r = tokenCategories(losses);
    expect(r.categories).toEqual(["H→L", "L→H", "L→L", "H→H", "L→H", null]);
    expect(r.delta[0]).toBeCloseTo(-1.5, 12);
    expect(r.delta[1]).toBeCloseTo(0.6, 12);
    expect(r.delta[2]).toBeCloseTo(-0.06, 12);
    expect(r.delta[4]).toBeCloseTo(0.225, 12);
    expect(Number.isNaN(r.delta[5])).toBe(true);
    expect(r.meanLast).toBeCloseTo(2.07, 12);
    expect(r.counts).toEqual({ "H→H": 1, "L→H": 2, "H→L": 1, "L→L": 1 });
    expect(r.shares).toEqual({ "H→H": 0.2, "L→H": 0.4, "H→L": 0.2, "L→L": 0.2 });
  });

  test("ΔL is independent of x's unit but follows its spacing", () => {
    const scaled = tokenCategories(losses, { x: [0, 1e6, 2e6, 3e6] });
    expect(scaled.delta[4]).toBeCloseTo(0.225, 9);
    // Uneven spacing: token 4's jump comes after a long gap → fitted slope changes.
    // x = [0, 1, 2, 10]: x̄ = 3.25, x−x̄ = [−3.25, −2.25, −1.25, 6.75], sxx = 10.5625+5.0625+1.5625+45.5625 = 62.75,
    // sxy = 6.75 × .1875 + (−6.75) × (−.0625) = 1.265625 + .421875 = 1.6875; slope .026892, ΔL = ×10 = .26892
    const uneven = tokenCategories(losses, { x: [0, 1, 2, 10] });
    expect(uneven.delta[4]).toBeCloseTo(1.6875 / 6.275, 9);
  });

  test("threshold is configurable", () => {
    expect(tokenCategories(losses, { threshold: 0.3 }).categories[4]).toBe("H→H"); // 2.25 > 2.07
  });

  test("bad input is rejected", () => {
    expect(() => tokenCategories([[1, 2]])).toThrow("at least 2 checkpoints");
    expect(() => tokenCategories([[1, 2], [1]])).toThrow("losses[1]: expected 2 tokens");
    expect(() => tokenCategories(losses, { x: [0, 1] })).toThrow("x: expected 4 positions");
    expect(() => tokenCategories([[1], [2]], { x: [5, 5] })).toThrow("must not all be equal");
  });
});
