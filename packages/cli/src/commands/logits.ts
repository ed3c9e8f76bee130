import type { Command } from "../command.ts";

export const command: Command = {
  name: "logits",
  summary: "(not implemented yet)",
  usage: "rho1 logits: not implemented yet",
  async run() {
    process.stderr.write("rho1 logits: not implemented yet\n");
    return 1;
  },
};
