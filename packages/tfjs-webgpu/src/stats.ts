import * as tf from "@tensorflow/tfjs-core";

/** GPU buffers held by tfjs-webgpu's buffer manager (in use plus pooled): flat across steps when nothing leaks. */
export function webgpuBufferCount(): { used: number; free: number } {
  const backend = tf.findBackend("webgpu") as unknown as {
    bufferManager?: { getNumUsedBuffers(): number; getNumFreeBuffers(): number };
  } | null;
  const manager = backend?.bufferManager;
  if (!manager) return { used: 0, free: 0 };
  return { used: manager.getNumUsedBuffers(), free: manager.getNumFreeBuffers() };
}
