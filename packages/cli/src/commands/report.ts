import type { Command } from "../command.ts";

export const command: Command = {
  name: "report",
  summary: "(not implemented yet)",
  usage: "rho1 report: not implemented yet",
  async run() {
    process.stderr.write("rho1 report: not implemented yet\n");
    return 1;
  },
};
