import type { Command } from "../command.ts";

export const command: Command = {
  name: "inspect",
  summary: "(not implemented yet)",
  usage: "rho1 inspect: not implemented yet",
  async run() {
    process.stderr.write("rho1 inspect: not implemented yet\n");
    return 1;
  },
};
