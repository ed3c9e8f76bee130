import { expect, test } from "bun:test";
import { formatEta, ProgressLine } from "./progress.ts";

test("formatEta: seconds, minutes and seconds, hours and minutes; ? when unknown", () => {
  expect(formatEta(0)).toBe("0s");
  expect(formatEta(42.4)).toBe("42s");
  expect(formatEta(59.6)).toBe("1m00s");
  expect(formatEta(185)).toBe("3m05s");
  expect(formatEta(3720)).toBe("1h02m");
  expect(formatEta(Number.POSITIVE_INFINITY)).toBe("?");
  expect(formatEta(Number.NaN)).toBe("?");
});

test("ProgressLine rewrites one line on a terminal and writes plain lines elsewhere", () => {
  const written: string[] = [];
  const stream = (isTTY: boolean) =>
    ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
  const tty = new ProgressLine(stream(true));
  tty.update("a");
  tty.update("b");
  tty.done();
  expect(written.splice(0)).toEqual(["\ra\x1b[K", "\rb\x1b[K", "\n"]);
  const log = new ProgressLine(stream(false));
  log.update("a");
  log.done();
  expect(written).toEqual(["a\n"]);
});
