/**
 * The fastest TensorFlow.js backend available: @rho1/tfjs-native's kernels (C through bun:ffi) on the cpu
 * backend when they load, else whatever @rho1/transformer's setupBackend picks (tfjs-node if installed, plain cpu).
 */
import { nativeBackendExtension } from "@rho1/tfjs-native";
import { registerBackendExtension, setupBackend } from "@rho1/transformer";

export function fastBackend(): Promise<string> {
  registerBackendExtension("tfjs-native", () => nativeBackendExtension());
  return setupBackend();
}
