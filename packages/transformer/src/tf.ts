/**
 * The one place that loads TensorFlow.js for this package: core, the always-available `cpu` backend, and every
 * gradient (tfjs-core registers none unless this side-effect import runs). Everything else imports `tf` from here.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";

export { tf };

// Production mode: skips tfjs's debug checks and its "install our node backend" banner (setupBackend prints
// one line about the backend instead).
tf.env().set("PROD", true);
