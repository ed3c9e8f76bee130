import type { Command } from "../command.ts";

export const command: Command = {
  name: "tokenize",
  summary: "(not implemented yet)",
  usage: "rho1 tokenize: not implemented yet",
  async run() {
    process.stderr.write("rho1 tokenize: not implemented yet\n");
    return 1;
  },
};
