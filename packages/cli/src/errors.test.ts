import { expect, test } from "bun:test";
import { DistributedError } from "@rho1/distributed";
import { IoError, Rho1Error } from "@rho1/io";
import { DatasetError, EvalDataError, PromptFileError } from "@rho1/math-eval";
import { ScoreError } from "@rho1/reference-scorer";
import { ReportError } from "@rho1/report";
import { SafetensorsError } from "@rho1/safetensors";
import { SelectiveLossError } from "@rho1/selective-loss";
import { TokenizerError } from "@rho1/tokenizer";
import { TrainError } from "@rho1/train";
import { ConfigError } from "@rho1/transformer";
import { UsageError } from "./command.ts";

test("every package's errors have one shape: Rho1Error with code, message and details, and their own name", () => {
  const cases: [Rho1Error, string, string, Record<string, unknown>][] = [
    [
      new IoError("bad_json", "f:1: not valid JSON", { file: "f", line: 1 }),
      "IoError",
      "bad_json",
      { file: "f", line: 1 },
    ],
    [
      new ScoreError("missing_column", "no column", { file: "a.parquet", rowGroup: 2 }),
      "ScoreError",
      "missing_column",
      { file: "a.parquet", rowGroup: 2 },
    ],
    [
      new ReportError("series", "an array", "object"),
      "ReportError",
      "bad_input",
      { field: "series", expected: "an array", found: "object" },
    ],
    [
      new SafetensorsError("invalid_offsets", "m.safetensors", "bad", "w"),
      "SafetensorsError",
      "invalid_offsets",
      { file: "m.safetensors", tensor: "w" },
    ],
    [
      new SelectiveLossError("ratio", "(0, 1]", "2"),
      "SelectiveLossError",
      "bad_input",
      { field: "ratio", expected: "(0, 1]", found: "2" },
    ],
    [new TokenizerError("no vocab", "t.json"), "TokenizerError", "bad_tokenizer", { file: "t.json" }],
    [new TrainError("--lr must be > 0", "bad_option"), "TrainError", "bad_option", {}],
    [
      new ConfigError("c.json: bad", "c.json", "hidden_size"),
      "ConfigError",
      "bad_config",
      { file: "c.json", field: "hidden_size" },
    ],
    [
      new DatasetError("gsm8k", "answer", "a string", 3),
      "DatasetError",
      "bad_record",
      { dataset: "gsm8k", field: "answer", expected: "a string", found: 3 },
    ],
    [new EvalDataError("f:2: expected a JSON object"), "EvalDataError", "bad_dataset", {}],
    [new PromptFileError("p.md", "missing"), "PromptFileError", "bad_prompt_file", { file: "p.md" }],
    [new UsageError("--x expects a number"), "UsageError", "usage", {}],
    [
      new DistributedError("MPI_Allreduce: MPI error 5", "mpi_call_failed"),
      "DistributedError",
      "mpi_call_failed",
      {},
    ],
  ];
  for (const [error, name, code, details] of cases) {
    expect(error).toBeInstanceOf(Rho1Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.details).toEqual(details);
    expect(error.message.length).toBeGreaterThan(0);
  }
  expect(new ScoreError("x", "bad", { file: "a.parquet", rowGroup: 2 }).message).toBe(
    "a.parquet (row group 2): bad",
  );
  expect(new SafetensorsError("x", "m.safetensors", "bad").message).toBe("m.safetensors: bad");
});
