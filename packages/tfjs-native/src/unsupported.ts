/**
 * What Node loads instead of this package (the `node` condition of every entry in package.json): the kernels load
 * through bun:ffi, which Node does not have, so importing the package there is one error that says so rather than
 * Node's ERR_UNSUPPORTED_ESM_URL_SCHEME about "bun:". Applications that run on both (the rho1 CLI) import it only
 * under Bun and use the pure TensorFlow.js path elsewhere.
 */
import { Rho1Error, runtimeName } from "@rho1/io";

throw new Rho1Error(
  "unsupported_runtime",
  `@rho1/tfjs-native needs Bun (its kernels load through bun:ffi); this is ${runtimeName}. Under Node, leave it out: ` +
    "@rho1/transformer runs on the pure TensorFlow.js cpu backend, or install @tensorflow/tfjs-node",
  { expected: "bun", found: runtimeName },
);
