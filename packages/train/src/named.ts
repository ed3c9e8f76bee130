import type * as tf from "@tensorflow/tfjs-core";

/**
 * Tensors by name, as either a Map or the plain object TensorFlow.js itself uses (`tf.NamedTensorMap`, what
 * `tf.variableGrads` returns and `optimizer.applyGradients` takes).
 */
export type NamedTensors<T extends tf.Tensor = tf.Tensor> = Map<string, T> | Record<string, T>;

/** Variables by name (Map or `tf.NamedVariableMap`), or a list keyed by each variable's own name. */
export type NamedVariables = NamedTensors<tf.Variable> | readonly tf.Variable[];

export function namedMap<T extends tf.Tensor>(tensors: NamedTensors<T>): Map<string, T> {
  return tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
}

export function variableMap(variables: NamedVariables): Map<string, tf.Variable> {
  if (Array.isArray(variables)) return new Map(variables.map((v) => [v.name, v]));
  return namedMap(variables as NamedTensors<tf.Variable>);
}
