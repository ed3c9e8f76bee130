import { fileURLToPath } from "node:url";

/**
 * The Hugging Face folder of stories260K (config.json, model.safetensors, tokenizer.json, tokenizer_config.json),
 * resolved from this module's own location so it is right wherever the package is installed.
 */
export const STORIES260K_DIR: string = fileURLToPath(new URL("../model", import.meta.url));
