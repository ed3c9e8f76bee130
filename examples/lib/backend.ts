/**
 * The fastest TensorFlow.js backend available: WebGPU on a hardware adapter (@rho1/tfjs-webgpu), else
 * @rho1/tfjs-native's kernels (C through bun:ffi) on the cpu backend when they load, else whatever
 * @rho1/transformer's setupBackend picks (tfjs-node if installed, plain cpu). RHO1_BACKEND forces one.
 */
import { nativeBackendExtension } from "@rho1/tfjs-native";
import { registerBackendExtension, registerWebGPUProvider, setupBackend } from "@rho1/transformer";

export function fastBackend(): Promise<string> {
  registerWebGPUProvider(async (opts) => (await import("@rho1/tfjs-webgpu")).setupWebGPU(opts));
  registerBackendExtension("tfjs-native", () => nativeBackendExtension());
  return setupBackend();
}
