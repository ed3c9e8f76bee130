import type { Command } from "../command.ts";

export const command: Command = {
  name: "score",
  summary: "(not implemented yet)",
  usage: "rho1 score: not implemented yet",
  async run() {
    process.stderr.write("rho1 score: not implemented yet\n");
    return 1;
  },
};
