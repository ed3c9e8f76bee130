/**
 * A port of word2number 1.1 (`w2n.word_to_num`), which the harness's `strip_string` calls on every answer.
 * The library silently drops tokens that are not number words, so "1.45 million" is 1000000.
 */
import { Rho1Error } from "@rho1/io";
import { pyFloatStr, pyInt, pyIsDigit, pySplit } from "./python.ts";

const NUMBER_WORDS = new Map<string, number>(
  Object.entries({
    zero: 0,
    one: 1,
    two: 2,
    three: 3,
    four: 4,
    five: 5,
    six: 6,
    seven: 7,
    eight: 8,
    nine: 9,
    ten: 10,
    eleven: 11,
    twelve: 12,
    thirteen: 13,
    fourteen: 14,
    fifteen: 15,
    sixteen: 16,
    seventeen: 17,
    eighteen: 18,
    nineteen: 19,
    twenty: 20,
    thirty: 30,
    forty: 40,
    fifty: 50,
    sixty: 60,
    seventy: 70,
    eighty: 80,
    ninety: 90,
    hundred: 100,
    thousand: 1000,
    million: 1000000,
    billion: 1000000000,
  }),
);
const DECIMAL_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** Raised where word2number raises ValueError/IndexError; the caller keeps its input unchanged. */
export class Word2NumberError extends Rho1Error {
  override name = "Word2NumberError";
  constructor(message: string) {
    super("not_a_number", message);
  }
}

function value(word: string): number {
  return NUMBER_WORDS.get(word) as number;
}

/** w2n.number_formation: its fixed arithmetic for 1-4 words; an empty list is an IndexError in Python. */
function numberFormation(words: string[]): number {
  const n = words.map(value);
  if (n.length === 0) throw new Word2NumberError("list index out of range");
  const [a, b, c, d] = n as [number, number, number, number];
  if (n.length === 4) return a * b + c + d;
  if (n.length === 3) return a * b + c;
  if (n.length === 2) return n.includes(100) ? a * b : a + b;
  return a;
}

/** w2n.get_decimal_sum: 0 (an int) when a word after "point" is not a single digit word. */
function decimalSum(words: string[]): { value: number; isFloat: boolean } {
  const digits: number[] = [];
  for (const w of words) {
    if (!DECIMAL_WORDS.includes(w)) return { value: 0, isFloat: false };
    digits.push(value(w));
  }
  return { value: Number(`0.${digits.join("")}`), isFloat: true };
}

/** `str(w2n.word_to_num(text))`; throws Word2NumberError where the library raises. */
export function wordToNum(text: string): string {
  const sentence = text.replaceAll("-", " ").toLowerCase();
  // str.isdigit() (any script's digits, and ², ①...), then int(), which reads "٣" as 3, drops leading zeros and
  // raises ValueError on a digit that is not decimal ("²"): convert_word_number then keeps the text as it was.
  if (pyIsDigit(sentence)) {
    const n = pyInt(sentence);
    if (n === null) throw new Word2NumberError(`invalid literal for int() with base 10: '${sentence}'`);
    return n.toString();
  }
  const words = pySplit(sentence);
  let clean = words.filter((w) => NUMBER_WORDS.has(w) || w === "point");
  if (clean.length === 0) throw new Word2NumberError("No valid number words found!");
  const count = (w: string) => clean.filter((x) => x === w).length;
  if (count("thousand") > 1 || count("million") > 1 || count("billion") > 1 || count("point") > 1)
    throw new Word2NumberError("Redundant number word!");
  let decimals: string[] = [];
  if (count("point") === 1) {
    const at = clean.indexOf("point");
    decimals = clean.slice(at + 1);
    clean = clean.slice(0, at);
  }
  const billion = clean.indexOf("billion");
  const million = clean.indexOf("million");
  const thousand = clean.indexOf("thousand");
  if ((thousand > -1 && (thousand < million || thousand < billion)) || (million > -1 && million < billion))
    throw new Word2NumberError("Malformed number!");
  let total = 0;
  if (clean.length === 1) total += value(clean[0] as string);
  else if (clean.length > 1) {
    if (billion > -1) total += numberFormation(clean.slice(0, billion)) * 1000000000;
    if (million > -1) {
      const from = billion > -1 ? billion + 1 : 0;
      total += numberFormation(clean.slice(from, million)) * 1000000;
    }
    if (thousand > -1) {
      const from = million > -1 ? million + 1 : billion > -1 ? billion + 1 : 0;
      total += numberFormation(clean.slice(from, thousand)) * 1000;
    }
    const last = clean.length - 1;
    let hundreds = 0;
    if (thousand > -1 && thousand !== last) hundreds = numberFormation(clean.slice(thousand + 1));
    else if (million > -1 && million !== last) hundreds = numberFormation(clean.slice(million + 1));
    else if (billion > -1 && billion !== last) hundreds = numberFormation(clean.slice(billion + 1));
    else if (thousand === -1 && million === -1 && billion === -1) hundreds = numberFormation(clean);
    total += hundreds;
  }
  let isFloat = false;
  if (decimals.length > 0) {
    const d = decimalSum(decimals);
    total += d.value;
    isFloat = d.isFloat;
  }
  return isFloat ? pyFloatStr(total) : String(total);
}
