#!/usr/bin/env bash
# Runs the README's "The command line" walkthrough top to bottom, unchanged, on a fresh clone of this checkout's
# HEAD: the commands a new user copies must work as written (the corpus they score is made by step 0).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/rho1"
cd "$work/rho1"
git checkout -q "$(git -C "$repo" rev-parse HEAD)" # the checkout's commit (a worktree's clone starts at main)
bun install --frozen-lockfile >/dev/null
# The first ```sh block after "## The command line", as written.
awk '/^## The command line/{f=1} f&&/^```sh/{b=1; next} b&&/^```/{exit} b' README.md > walkthrough.sh
test -s walkthrough.sh
echo "readme-walkthrough: $(grep -c '^bunx\|^bun \|^echo' walkthrough.sh) commands"
bash -euo pipefail -x walkthrough.sh
test -f runs/export/README.md && test -f runs/export/tokenizer_config.json
echo "readme-walkthrough: passed"
