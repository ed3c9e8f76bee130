export { attention } from "./attention.ts";
export * from "./contract.ts";
export { crossEntropy } from "./crossEntropy.ts";
export { embedding } from "./embedding.ts";
export { hasKernel } from "./kernel.ts";
export { linear } from "./matmul.ts";
export { rmsNorm } from "./rmsNorm.ts";
export { inverseFrequencies, rope, ropeTables } from "./rope.ts";
export { swiglu } from "./swiglu.ts";
