import type { Command } from "../command.ts";

export const command: Command = {
  name: "eval",
  summary: "(not implemented yet)",
  usage: "rho1 eval: not implemented yet",
  async run() {
    process.stderr.write("rho1 eval: not implemented yet\n");
    return 1;
  },
};
