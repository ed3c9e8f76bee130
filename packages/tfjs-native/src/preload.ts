/**
 * `bun test --preload @rho1/tfjs-native/preload` (or a path to this file): registers the native kernels before any
 * test runs, so suites that call tf.setBackend("cpu") themselves exercise them. RHO1_NATIVE=0 keeps them off;
 * RHO1_NATIVE=1 makes their absence an error instead of a notice (CI).
 */
import { nativeStatus, registerNativeKernels } from "./register.ts";

const ok = await registerNativeKernels();
if (!ok && process.env.RHO1_NATIVE === "1") {
  throw new Error(`RHO1_NATIVE=1 but native kernels are unavailable: ${nativeStatus().reason}`);
}
