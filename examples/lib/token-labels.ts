/**
 * Which tokens of a noisy row are junk: maps the row's junk character spans (noisy-corpus.ts metadata) onto its
 * SentencePiece tokens by rebuilding each token's UTF-8 byte range from its piece ("▁" = space, "<0xNN>" = one byte;
 * Metaspace prepends one "▁" to the text). A token is junk when its first text byte lies in a junk span.
 */
const encoder = new TextEncoder();

export function junkTokens(
  text: string,
  junkSpans: readonly [number, number][],
  ids: readonly number[],
  piece: (id: number) => string,
): Uint8Array {
  const lengths = ids.map((id) => {
    const p = piece(id);
    return /^<0x[0-9A-Fa-f]{2}>$/.test(p) ? 1 : encoder.encode(p.replace(/▁/g, " ")).length;
  });
  const total = lengths.reduce((a, b) => a + b, 0);
  const textBytes = encoder.encode(text).length;
  if (total !== textBytes + 1) {
    throw new RangeError(
      `junkTokens: pieces cover ${total} bytes, expected ${textBytes + 1} (text + prefix)`,
    );
  }
  const byteSpans = junkSpans.map(
    ([a, b]) => [encoder.encode(text.slice(0, a)).length, encoder.encode(text.slice(0, b)).length] as const,
  );
  const out = new Uint8Array(ids.length);
  let at = -1; // the prepended "▁" is byte −1 of the text
  for (let i = 0; i < ids.length; i++) {
    // A token's first text byte: skip a leading space-marker at the very start (it is the prefix, not text).
    const first = Math.max(0, at);
    out[i] = byteSpans.some(([a, b]) => first >= a && first < b) ? 1 : 0;
    at += lengths[i];
  }
  return out;
}
