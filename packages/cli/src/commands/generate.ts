import type { Command } from "../command.ts";

export const command: Command = {
  name: "generate",
  summary: "(not implemented yet)",
  usage: "rho1 generate: not implemented yet",
  async run() {
    process.stderr.write("rho1 generate: not implemented yet\n");
    return 1;
  },
};
