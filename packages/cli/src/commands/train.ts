import type { Command } from "../command.ts";

export const command: Command = {
  name: "train",
  summary: "(not implemented yet)",
  usage: "rho1 train: not implemented yet",
  async run() {
    process.stderr.write("rho1 train: not implemented yet\n");
    return 1;
  },
};
