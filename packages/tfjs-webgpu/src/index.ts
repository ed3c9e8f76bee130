export {
  registerWebGPUKernels,
  unregisterWebGPUKernels,
  WebGPUKernelError,
  webgpuKernels,
} from "./kernels.ts";
export {
  type AdapterDescription,
  adapterLabel,
  setupWebGPU,
  type WebGPUSetupOptions,
  type WebGPUSetupResult,
  webgpuAdapter,
} from "./setup.ts";
export { webgpuBufferCount } from "./stats.ts";
