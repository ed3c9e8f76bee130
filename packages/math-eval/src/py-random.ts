/**
 * Python's `random` module, call for call: MT19937 seeded as `random.seed(int)` seeds it, and `random()`,
 * `getrandbits(k)`, `_randbelow(n)`, `sample(population, k)` and `shuffle(x)` as CPython 3 computes them
 * (Modules/_randommodule.c, Lib/random.py). It exists so `rho1 eval --num-test-sample N --seed S` picks exactly the
 * records `math_eval.py` picks:
 *
 *     random.seed(S)                       # utils.set_seed, once, before the first dataset
 *     for data_name in args.data_names.split(","):
 *         examples = random.sample(examples, N)   # prepare_data, in --data_names order, one generator throughout
 *
 * Hand-written because the npm Mersenne Twisters give the raw generator but not CPython's seeding from an integer,
 * its 53-bit `random()`, `getrandbits` word order or the set/pool switch inside `sample`, and each of those decides
 * which records come out. Tested against lists produced by /usr/bin/python3.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class PyRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /** `random.seed(a)` for an int `a`: init_by_array over the 32-bit words of |a|, least significant first. */
  seed(a: number | bigint): void {
    if (typeof a === "number" && !Number.isInteger(a))
      throw new RangeError(`seed must be an integer, found ${a}`);
    let n = typeof a === "bigint" ? a : BigInt(a);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (((mt[i] as number) ^ Math.imul(prev, 1664525)) + (key[j] as number) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (((mt[i] as number) ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** genrand_uint32: the next 32-bit output. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = ((mt[k] as number) & UPPER_MASK) | ((mt[(k + 1) % N] as number) & LOWER_MASK);
        mt[k] = (mt[(k + M) % N] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random.random()`: 53 random bits from two outputs, in [0, 1). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random.getrandbits(k)`: 32-bit words filled least significant first, the last one shifted down. */
  getrandbits(k: number): bigint {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`number of bits must be >= 0, found ${k}`);
    let result = 0n;
    for (let shift = 0n, left = k; left > 0; left -= 32, shift += 32n) {
      let word = this.nextUint32();
      if (left < 32) word >>>= 32 - left;
      result |= BigInt(word) << shift;
    }
    return result;
  }

  /** `random._randbelow(n)` (`_randbelow_with_getrandbits`): rejection sampling on n.bit_length() bits. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`randbelow needs a safe integer >= 0, found ${n}`);
    const k = n.toString(2).length * (n > 0 ? 1 : 0);
    if (k <= 32) {
      // The common case without BigInt: one word, shifted as getrandbits does.
      const draw = () => (k === 0 ? 0 : this.nextUint32() >>> (32 - k));
      let r = draw();
      while (r >= n) r = draw();
      return r;
    }
    const limit = BigInt(n);
    let r = this.getrandbits(k);
    while (r >= limit) r = this.getrandbits(k);
    return Number(r);
  }

  /** `random.sample(population, k)`: the pool algorithm for small populations, the set algorithm otherwise. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!Number.isInteger(k) || k < 0 || k > n)
      throw new RangeError(`Sample larger than population or is negative (k=${k}, population ${n})`);
    const result: T[] = new Array(k);
    let setsize = 21;
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
    if (n <= setsize) {
      const pool = population.slice();
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j] as T;
        pool[j] = pool[n - i - 1] as T;
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = population[j] as T;
      }
    }
    return result;
  }

  /** `random.shuffle(x)` in place: Fisher-Yates from the end, `_randbelow(i + 1)`. */
  shuffle<T>(x: T[]): T[] {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      [x[i], x[j]] = [x[j] as T, x[i] as T];
    }
    return x;
  }
}
