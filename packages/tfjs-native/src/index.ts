export { NativeKernelError } from "./kernels.ts";
export { NativeUnavailable } from "./loader.ts";
export * from "./names.ts";
export {
  type NativeStatus,
  nativeAvailability,
  nativeBackendExtension,
  nativeStatus,
  type RegisterOptions,
  registerNativeKernels,
  unregisterNativeKernels,
  withBlas,
} from "./register.ts";
