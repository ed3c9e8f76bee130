/**
 * A strict JSON reader for safetensors headers. JSON.parse is not enough: it silently keeps the last of duplicate
 * keys (the spec forbids duplicate tensor names), reorders integer-like keys (names like "0" would lose file order)
 * and cannot tell `2` from `2.0` (Rust's serde rejects a fractional shape). Objects come back as ordered Maps.
 */

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonNumber {
  constructor(
    readonly value: number,
    /** Written as an integer literal (no fraction, no exponent) and exactly representable. */
    readonly integer: boolean,
    readonly raw: string,
  ) {}
}

/** A syntax problem: `message` says what and where; callers wrap it in a SafetensorsError. */
export class JsonSyntaxError extends Error {
  /** Set for a duplicate key: the nesting depth of its object (1 = the top-level object). */
  duplicateDepth?: number;
}

/** Same nesting limit as serde_json, so deep garbage is refused instead of overflowing the stack. */
const MAX_DEPTH = 128;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

export function parseJson(text: string): JsonValue {
  let pos = 0;

  const fail = (what: string): never => {
    const near = JSON.stringify(text.slice(pos, pos + 20));
    throw new JsonSyntaxError(`${what} at character ${pos} (near ${near})`);
  };

  const skipWhitespace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };

  const parseString = (): string => {
    const start = pos; // at the opening quote
    pos++;
    let escaped = false;
    for (;;) {
      if (pos >= text.length) fail("unterminated string");
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      if (c === 0x5c) {
        escaped = true;
        pos++;
      }
      pos++;
    }
    pos++;
    if (!escaped) return text.slice(start + 1, pos - 1);
    let decoded: string;
    try {
      decoded = JSON.parse(text.slice(start, pos)) as string;
    } catch {
      pos = start;
      return fail("invalid escape in string");
    }
    // serde_json refuses escapes that produce lone surrogates (not valid Unicode scalar values).
    if (!decoded.isWellFormed()) {
      pos = start;
      fail("lone surrogate escape in string");
    }
    return decoded;
  };

  // Containers: after the opening bracket, `close` right away ends an empty one; after each member or element, ','
  // says another follows and `close` ends it.
  const opensEmpty = (close: number): boolean => {
    pos++;
    skipWhitespace();
    if (text.charCodeAt(pos) !== close) return false;
    pos++;
    return true;
  };
  const closes = (close: number): boolean => {
    skipWhitespace();
    const next = text.charCodeAt(pos);
    if (next !== close && next !== 0x2c) fail(`expected ',' or '${String.fromCharCode(close)}'`);
    pos++;
    return next === close;
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipWhitespace();
    const c = text.charCodeAt(pos);
    if (c === 0x7b) {
      const object: JsonObject = new Map();
      if (opensEmpty(0x7d)) return object;
      for (;;) {
        skipWhitespace();
        if (text.charCodeAt(pos) !== 0x22) fail("expected a string key");
        const keyStart = pos;
        const key = parseString();
        if (object.has(key)) {
          const error = new JsonSyntaxError(
            `duplicate key ${JSON.stringify(key).slice(0, 120)} at character ${keyStart}`,
          );
          error.duplicateDepth = depth + 1;
          throw error;
        }
        skipWhitespace();
        if (text.charCodeAt(pos) !== 0x3a) fail("expected ':'");
        pos++;
        object.set(key, parseValue(depth + 1));
        if (closes(0x7d)) return object;
      }
    }
    if (c === 0x5b) {
      const array: JsonValue[] = [];
      if (opensEmpty(0x5d)) return array;
      for (;;) {
        array.push(parseValue(depth + 1));
        if (closes(0x5d)) return array;
      }
    }
    if (c === 0x22) return parseString();
    if (text.startsWith("true", pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith("false", pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith("null", pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match) {
      pos += match[0].length;
      const value = Number(match[0]);
      const integer = match[1] === undefined && match[2] === undefined && Number.isSafeInteger(value);
      return new JsonNumber(value, integer, match[0]);
    }
    return fail(pos >= text.length ? "unexpected end of JSON" : "unexpected character");
  };

  const value = parseValue(0);
  skipWhitespace();
  if (pos < text.length) fail("trailing characters after JSON value");
  return value;
}
