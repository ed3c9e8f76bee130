export { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "./command.ts";
export { main } from "./main.ts";
