import type { Command } from "../command.ts";

export const command: Command = {
  name: "grade",
  summary: "(not implemented yet)",
  usage: "rho1 grade: not implemented yet",
  async run() {
    process.stderr.write("rho1 grade: not implemented yet\n");
    return 1;
  },
};
