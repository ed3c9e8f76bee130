export { type Command, numberOption, parseCommandArgs, requireOption, UsageError } from "./command.ts";
export { heatmapDocs, type ReportDoc, type ScoredSequence } from "./commands/report.ts";
export { main } from "./main.ts";
