// Prints "N passed, N failed" over bun test's JUnit reports and exits non-zero on any failure.
// usage: bun .ci/summary.ts STATUS[,STATUS...] REPORT.xml [REPORT.xml...]
const [statuses, ...files] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const xml = await Bun.file(file)
    .text()
    .catch(() => "");
  const cases = xml.match(/<testcase\b[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
  if (cases.length === 0) failed++; // a report with no test case means the runner never got going
  for (const c of cases) {
    if (/<failure\b|<error\b/.test(c)) failed++;
    else if (/<skipped\b/.test(c)) skipped++;
    else passed++;
  }
}
// A step that failed outside any test case (load error, crash, pack check) still fails the run.
const stepFailures = statuses.split(",").filter((s) => Number(s) !== 0).length;
if (stepFailures > 0 && failed === 0) failed = stepFailures;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
