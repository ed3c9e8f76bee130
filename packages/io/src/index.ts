export { type AtomicWriteOptions, commitFileAtomic, writeFileAtomic } from "./atomic.ts";
export { IoError, Rho1Error } from "./error.ts";
export { fixturesPresent } from "./fixtures.ts";
export { type JsonLine, parseJsonLines, readJsonLines } from "./json-lines.ts";
