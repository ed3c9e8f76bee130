/**
 * WebGPU for TensorFlow.js under Bun: `navigator.gpu` from the `webgpu` npm package (Dawn's dawn.node, prebuilt
 * inside the package), a device that asks for the adapter's own limits, and tfjs-backend-webgpu registered on that
 * device with this package's fused kernels.
 *
 * Order matters: tfjs-backend-webgpu decides at module evaluation whether WebGPU exists (`navigator.gpu`), so it is
 * imported dynamically, after `navigator.gpu` is set.
 */
import { existsSync, readdirSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { registerWebGPUKernels } from "./kernels.ts";

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (Mesa's lavapipe / llvmpipe, SwiftShader): correct but about 4 GFLOP/s. */
  isFallback: boolean;
  /** The limits the device was created with (the adapter's maxima). */
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

export type WebGPUSetupResult =
  | { ok: true; label: string; adapter: AdapterDescription }
  | { ok: false; why: string };

export interface WebGPUSetupOptions {
  /** Accept a software (fallback) adapter. Auto-selection passes false; RHO1_BACKEND=webgpu passes true. */
  allowFallback?: boolean;
}

let active: AdapterDescription | null = null;
let pending: Promise<WebGPUSetupResult> | null = null;

/**
 * Creates the WebGPU device and activates the `webgpu` tfjs backend with the fused kernels. Resolves with the
 * adapter's description, or with why not (no `webgpu` package for this platform, no adapter, only a fallback adapter
 * when `allowFallback` is false). Idempotent: the device is created once per process.
 */
export function setupWebGPU(opts: WebGPUSetupOptions = {}): Promise<WebGPUSetupResult> {
  if (active) return activate(active);
  pending ??= (async () => {
    const result = await createBackend(opts.allowFallback ?? false);
    if (!result.ok) pending = null; // a later call with allowFallback may still succeed
    return result;
  })();
  return pending;
}

async function createBackend(allowFallback: boolean): Promise<WebGPUSetupResult> {
  // Starting Dawn and enumerating Vulkan drivers costs a second or more: skip it where no GPU device node exists.
  if (!allowFallback && !mayHaveGpu()) return { ok: false, why: "no GPU device" };
  const gpu = await navigatorGpu();
  if (typeof gpu === "string") return { ok: false, why: gpu };
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return { ok: false, why: "no WebGPU adapter (no Vulkan/Metal/D3D12 driver found)" };
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const isFallback = Boolean(
    info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  if (isFallback && !allowFallback) {
    return {
      ok: false,
      why: `only a software WebGPU adapter (${info.description || info.architecture}); RHO1_BACKEND=webgpu uses it`,
    };
  }
  const l = adapter.limits;
  // The defaults (256 MiB buffers, 128 MiB bindings, 16 KiB workgroup memory) are far below what a GPU offers: a
  // 32000 x 2048 embedding alone is 250 MiB. Ask for the adapter's maxima.
  const requiredLimits = {
    maxBufferSize: l.maxBufferSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  const device = await adapter.requestDevice({ requiredLimits });
  const description: AdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallback,
    limits: {
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    },
  };
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  // The package registered a factory that creates its own device with its own choice of limits: replace it.
  tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new WebGPUBackend(device, info), 3);
  registerWebGPUKernels();
  active = description;
  return activate(description);
}

async function activate(adapter: AdapterDescription): Promise<WebGPUSetupResult> {
  if (!(await tf.setBackend("webgpu"))) return { ok: false, why: "tfjs-backend-webgpu failed to initialise" };
  return { ok: true, label: `webgpu (${adapterLabel(adapter)})`, adapter };
}

/** "nvidia hopper: NVIDIA H200" / "mesa llvmpipe (software): llvmpipe (LLVM 19.1.7, 256 bits)". */
export function adapterLabel(a: AdapterDescription): string {
  const who = [a.vendor, a.architecture].filter(Boolean).join(" ") || "unknown adapter";
  const software = a.isFallback && !/software/i.test(who) ? " (software)" : "";
  return `${who}${software}: ${a.description || a.device || "no description"}`;
}

/** The adapter in use, or null before a successful setupWebGPU. */
export function webgpuAdapter(): AdapterDescription | null {
  return active;
}

/** Linux exposes GPUs as device nodes (DRM render nodes, NVIDIA's, WSL's dxg); elsewhere we cannot tell cheaply. */
function mayHaveGpu(): boolean {
  if (process.platform !== "linux") return true;
  try {
    if (readdirSync("/dev/dri").some((n) => n.startsWith("renderD"))) return true;
  } catch {
    // no DRM devices
  }
  return existsSync("/dev/nvidiactl") || existsSync("/dev/dxg");
}

async function navigatorGpu(): Promise<GPU | string> {
  const nav = globalThis.navigator as Navigator & { gpu?: GPU };
  if (nav?.gpu) return nav.gpu;
  let webgpu: typeof import("webgpu");
  try {
    webgpu = await import("webgpu");
  } catch (error) {
    return `the webgpu package failed to load (${(error as Error).message.split("\n")[0]})`;
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });
  return gpu;
}
