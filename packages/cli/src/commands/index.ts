import type { Command } from "../command.ts";
import { command as analyze } from "./analyze.ts";
import { command as evaluate } from "./eval.ts";
import { command as exportModel } from "./export.ts";
import { command as generate } from "./generate.ts";
import { command as grade } from "./grade.ts";
import { command as inspect } from "./inspect.ts";
import { command as logits } from "./logits.ts";
import { command as prompt } from "./prompt.ts";
import { command as report } from "./report.ts";
import { command as score } from "./score.ts";
import { command as select } from "./select.ts";
import { command as tokenize } from "./tokenize.ts";
import { command as train } from "./train.ts";

// One file per command; each exports `command`. Listed in the order of the pipeline.
export const commands: Command[] = [
  inspect,
  tokenize,
  generate,
  logits,
  score,
  select,
  train,
  evaluate,
  exportModel,
  prompt,
  grade,
  report,
  analyze,
];
