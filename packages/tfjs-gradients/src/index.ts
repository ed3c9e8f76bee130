/**
 * Registers every gradient of @tensorflow/tfjs-core. tfjs-core registers none unless its
 * `dist/register_all_gradients` module runs, and Node's ES module loader cannot run that module: tfjs-core's dist/
 * is ES module syntax with extensionless relative imports, in a package without `"type": "module"` (Node resolves
 * `@tensorflow/tfjs-core` itself to its CommonJS bundle, which has no gradients). @tensorflow/tfjs solves this by
 * bundling that module into its own Node build; this package does the same for that one module: `bun run build`
 * bundles it, with the tfjs-core modules it imports, into dist/register-all-gradients.node.js. The copy shares the
 * engine and the gradient registry with the application's tfjs-core (tfjs-core keeps both on the global object),
 * so it registers the same gradient functions. Under Bun (and in the monorepo's sources) tfjs-core's own module
 * loads.
 */
import "@tensorflow/tfjs-core";
import { isBun } from "@rho1/io";

/** Beside this module once compiled (see scripts/build.ts); a variable, so type checking the sources skips it. */
const NODE_BUNDLE = "./register-all-gradients.node.js";

if (isBun) await import("@tensorflow/tfjs-core/dist/register_all_gradients");
else await import(NODE_BUNDLE);
