// Prints "N passed, N failed" from bun test's JUnit report and exits non-zero on any failure.
const [file, status] = process.argv.slice(2);
const xml = await Bun.file(file)
  .text()
  .catch(() => "");
const cases = xml.match(/<testcase\b[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
let failed = 0;
let skipped = 0;
for (const c of cases) {
  if (/<failure\b|<error\b/.test(c)) failed++;
  else if (/<skipped\b/.test(c)) skipped++;
}
const passed = cases.length - failed - skipped;
const runnerFailed = Number(status) !== 0;
if (runnerFailed && failed === 0) failed = 1; // the runner failed outside any test case (load error, crash)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || cases.length === 0 ? 1 : 0);
