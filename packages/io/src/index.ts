export {
  type AtomicWriteOptions,
  commitFileAtomic,
  fsyncEnabled,
  ioError,
  syncFile,
  syncFolder,
  writeFileAtomic,
} from "./atomic.ts";
export { IoError, Rho1Error } from "./error.ts";
export { fixturesPresent } from "./fixtures.ts";
export { type JsonLine, parseJsonLines, readJsonLines } from "./json-lines.ts";
export {
  LOCK_FILE,
  type LockHolder,
  lockOutput,
  type OutputLock,
  OutputLockedError,
  processAlive,
  removeStaleTemps,
  tempOwner,
} from "./output-lock.ts";
export {
  collectGarbage,
  gzipSync,
  isBun,
  mapFile,
  readAt,
  readInto,
  runtimeName,
  sleepSync,
  zstdCompressSync,
} from "./runtime.ts";
