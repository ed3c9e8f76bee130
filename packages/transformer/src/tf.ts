/**
 * The one place that loads TensorFlow.js for this package: core, the always-available `cpu` backend, and every
 * gradient (tfjs-core registers none on its own; @rho1/tfjs-gradients does, under Node too). Everything else
 * imports `tf` from here.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@rho1/tfjs-gradients";
import "@tensorflow/tfjs-backend-cpu";

export { tf };

// Production mode: skips tfjs's debug checks and its "install our node backend" banner (setupBackend prints
// one line about the backend instead).
tf.env().set("PROD", true);

/**
 * A tensor's values when reading them costs no device round trip, else null: always on host backends (cpu, wasm,
 * tfjs-node), and on webgpu while the tensor still holds the array it was created from (tfjs-webgpu drops it at
 * the first upload). Never a synchronous GPU read, which tfjs-webgpu cannot do outside a browser.
 */
export function hostValues(t: tf.Tensor): ArrayLike<number> | null {
  if (canReadSync()) return t.dataSync() as ArrayLike<number>;
  const backend = tf.backend() as unknown as {
    tensorMap?: { get(id: object): { values?: ArrayLike<number> | null } };
  };
  return backend.tensorMap?.get(t.dataId)?.values ?? null;
}

/** The active backend's largest tensor binding in bytes (WebGPU's maxStorageBufferBindingSize), else Infinity. */
export function maxBindingBytes(): number {
  const backend = tf.backend() as unknown as {
    device?: { limits?: { maxStorageBufferBindingSize?: number } };
  };
  return backend.device?.limits?.maxStorageBufferBindingSize ?? Number.POSITIVE_INFINITY;
}

/** True when the active backend keeps tensors in host memory (cpu, wasm, tfjs-node): dataSync is a plain read. */
export function canReadSync(): boolean {
  const name = tf.getBackend();
  return name === "cpu" || name === "wasm" || name === "tensorflow";
}
