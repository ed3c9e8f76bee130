import type { Command } from "../command.ts";

export const command: Command = {
  name: "prompt",
  summary: "(not implemented yet)",
  usage: "rho1 prompt: not implemented yet",
  async run() {
    process.stderr.write("rho1 prompt: not implemented yet\n");
    return 1;
  },
};
