/**
 * Turns tokenizer pieces (what `idToToken` returns) into the text each token contributes, so a heat-map shows the
 * document as it reads. SentencePiece: "▁" is a space and "<0xNN>" a raw byte; byte-level BPE (GPT-2, Llama 3):
 * each char stands for one byte. Runs of bytes are decoded as UTF-8 together: a multi-byte character appears on
 * the token that completes it (the earlier tokens of the run show nothing), and bytes that never complete a
 * character show U+FFFD, as a decoder would.
 */
export type PieceStyle = "sentencepiece" | "byte-level" | "raw";

export interface TokenText {
  /** The text the token contributes (may be "" for a byte in the middle of a multi-byte character). */
  text: string;
  /** A control token such as `<s>`, `</s>`, `<unk>`, `<|endoftext|>`: not part of the text. */
  special: boolean;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const SPECIAL_PIECE = /^(<[^<>\s]{1,40}>|<\|[^|]{1,40}\|>)$/;

let byteLevelDecoder: Map<string, number> | undefined;
/** GPT-2's bytes_to_unicode table, inverted: printable stand-in char → byte. */
function byteLevelTable(): Map<string, number> {
  if (byteLevelDecoder) return byteLevelDecoder;
  const table = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table.set(String.fromCodePoint(printable ? b : 256 + extra++), b);
  }
  byteLevelDecoder = table;
  return table;
}

/** Bytes of a piece in `style`, or undefined when the piece is plain text (or not representable as bytes). */
function pieceBytes(piece: string, style: PieceStyle): number[] | undefined {
  if (style === "sentencepiece") {
    const m = BYTE_PIECE.exec(piece);
    return m ? [Number.parseInt(m[1], 16)] : undefined;
  }
  if (style === "byte-level") {
    const table = byteLevelTable();
    const bytes: number[] = [];
    for (const ch of piece) {
      const b = table.get(ch);
      if (b === undefined) return undefined;
      bytes.push(b);
    }
    return bytes;
  }
  return undefined;
}

/** The text each piece contributes, in order (see the module comment). */
export function pieceTexts(pieces: readonly string[], style: PieceStyle = "sentencepiece"): TokenText[] {
  const out: TokenText[] = [];
  let decoder: TextDecoder | undefined;
  let lastByteToken = -1;
  const flush = () => {
    if (!decoder) return;
    const rest = decoder.decode();
    if (rest) out[lastByteToken].text += rest;
    decoder = undefined;
  };
  for (const piece of pieces) {
    if (SPECIAL_PIECE.test(piece) && !BYTE_PIECE.test(piece)) {
      flush();
      out.push({ text: piece, special: true });
      continue;
    }
    const bytes = pieceBytes(piece, style);
    if (bytes) {
      decoder ??= new TextDecoder("utf-8", { fatal: false });
      lastByteToken = out.length;
      out.push({ text: decoder.decode(new Uint8Array(bytes), { stream: true }), special: false });
      continue;
    }
    flush();
    out.push({ text: style === "sentencepiece" ? piece.replaceAll("▁", " ") : piece, special: false });
  }
  flush();
  return out;
}
