/**
 * Backend choice: tfjs-node-gpu (CUDA) > WebGPU on a hardware adapter (a provider registered by the application,
 * e.g. @rho1/tfjs-webgpu) > tfjs-node (libtensorflow) > the cpu backend with native kernels (an extension registered
 * by e.g. @rho1/tfjs-native) > plain cpu. `RHO1_BACKEND` (node-gpu | webgpu | node | native | wasm | cpu) forces one;
 * forced, WebGPU also takes a software adapter (Mesa's lavapipe: correct, slow). wasm is opt-in only: it lacks
 * UnsortedSegmentSum, runs out of its heap at vocab 32000, and is slow on transposed matmuls.
 */
import { tf } from "./tf.ts";

/** register() resolves false when it cannot load, true or a description for the start-up line when it did. */
type Register = () => Promise<boolean | string> | boolean | string;
type Extension = { name: string; register: Register };
const extensions: Extension[] = [];

/**
 * Registers an optional kernel provider for the cpu backend (the cli passes @rho1/tfjs-native's
 * `nativeBackendExtension`). It is tried by setupBackend after the tfjs-node backends; `register` returns false (or
 * throws) when it cannot load, and the next choice is used; a string it returns is shown in the start-up line. Registering a name again replaces the earlier entry.
 */
export function registerBackendExtension(name: string, register: Register): void {
  const existing = extensions.findIndex((e) => e.name === name);
  if (existing >= 0) extensions[existing] = { name, register };
  else extensions.push({ name, register });
}

export type WebGPUProvider = (opts: {
  allowFallback: boolean;
}) => Promise<{ ok: true; label: string } | { ok: false; why: string }>;
let webgpuProvider: WebGPUProvider | null = null;

/**
 * Registers the WebGPU set-up (the cli passes @rho1/tfjs-webgpu's `setupWebGPU`): it creates the device, registers
 * the kernels, activates the `webgpu` backend and reports the adapter, or says why not.
 */
export function registerWebGPUProvider(provider: WebGPUProvider): void {
  webgpuProvider = provider;
}

let chosen: Promise<string> | null = null;

/** Picks and activates the backend once (later calls return the same answer); prints the choice to stderr. */
export function setupBackend(): Promise<string> {
  chosen ??= choose();
  return chosen;
}

const CHOICES = ["node-gpu", "webgpu", "node", "native", "wasm", "cpu"] as const;
type Choice = (typeof CHOICES)[number];

async function choose(): Promise<string> {
  const forced = process.env.RHO1_BACKEND?.trim();
  if (forced) {
    const name = (forced === "tensorflow" ? "node" : forced) as Choice;
    if (!CHOICES.includes(name)) {
      chosen = null;
      throw new Error(`RHO1_BACKEND=${forced} is not one of ${CHOICES.join(", ")}`);
    }
    const result = await attempt(name, true);
    if (!result.ok) {
      chosen = null;
      throw new Error(`RHO1_BACKEND=${forced}: ${result.why}`);
    }
    announce(result.label);
    return tf.getBackend();
  }
  const missing: string[] = [];
  for (const name of ["node-gpu", "webgpu", "node", "native", "cpu"] as const) {
    const result = await attempt(name, false);
    if (result.ok) {
      const note = missing.length && result.label.startsWith("cpu") ? ` (${missing.join("; ")})` : "";
      announce(`${result.label}${note}`);
      return tf.getBackend();
    }
    if (result.why) missing.push(result.why);
  }
  throw new Error("no TensorFlow.js backend could be initialised");
}

async function attempt(
  name: Choice,
  forced: boolean,
): Promise<{ ok: true; label: string } | { ok: false; why: string }> {
  switch (name) {
    case "webgpu": {
      if (!webgpuProvider)
        return { ok: false, why: forced ? "no WebGPU provider registered (@rho1/tfjs-webgpu)" : "" };
      try {
        const result = await webgpuProvider({ allowFallback: forced });
        // Auto-selection skips a software adapter without comment: the CPU paths are faster than lavapipe.
        return result.ok || forced ? result : { ok: false, why: "" };
      } catch (error) {
        return { ok: false, why: `WebGPU failed: ${(error as Error).message.split("\n")[0]}` };
      }
    }
    case "node-gpu":
    case "node": {
      const pkg = name === "node" ? "@tensorflow/tfjs-node" : "@tensorflow/tfjs-node-gpu";
      try {
        await import(/* @vite-ignore */ pkg as string);
      } catch {
        return { ok: false, why: name === "node" ? `${pkg} not installed` : "" };
      }
      const ok = await trySetBackend("tensorflow");
      return ok ? { ok, label: `tensorflow (${pkg})` } : { ok, why: `${pkg} failed to initialise` };
    }
    case "native": {
      for (const ext of extensions) {
        try {
          const registered = await ext.register();
          if (registered && (await trySetBackend("cpu"))) {
            const detail = typeof registered === "string" ? ` (${registered})` : "";
            return { ok: true, label: `cpu + ${ext.name} kernels${detail}` };
          }
        } catch {
          // fall through: the extension could not load (no compiler, no BLAS, ...)
        }
      }
      return { ok: false, why: extensions.length ? "native kernels unavailable" : "" };
    }
    case "wasm": {
      try {
        await import("@tensorflow/tfjs-backend-wasm");
      } catch (error) {
        return { ok: false, why: `wasm backend failed to load: ${(error as Error).message.split("\n")[0]}` };
      }
      const ok = await trySetBackend("wasm");
      return ok ? { ok, label: "wasm" } : { ok, why: "wasm backend failed to initialise" };
    }
    case "cpu": {
      const ok = await trySetBackend("cpu");
      return ok ? { ok, label: "cpu" } : { ok, why: "cpu backend failed to initialise" };
    }
  }
}

async function trySetBackend(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

function announce(label: string): void {
  process.stderr.write(`rho1: TensorFlow.js backend ${label}\n`);
}
