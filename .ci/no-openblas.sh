#!/usr/bin/env bash
# A machine without libopenblas: every directory holding an OpenBLAS is covered by an empty tmpfs in a private mount
# namespace, then the CLI must still start with native kernels on, naming the built-in SGEMM (RHO1_NATIVE=1 makes
# their absence an error). Needs root (unshare -m); prints one line and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=$( (ldconfig -p 2>/dev/null | grep -o '/[^ ]*libopenblas[^ ]*' || true) | xargs -r -n1 readlink -f |
  xargs -r -n1 dirname | grep openblas | sort -u | tr '\n' ' ')
line=$(unshare -m bash -c '
  for d in '"$dirs"'; do mount -t tmpfs none "$d"; done
  for f in /usr/lib/*/libopenblas.so.0 /usr/lib64/libopenblas.so.0 /usr/local/lib/libopenblas.so.0; do
    if [ -e "$f" ]; then echo "still visible: $f"; exit 1; fi
  done
  RHO1_NATIVE=1 bun packages/cli/src/main.ts generate --prompt "Once" --max-new-tokens 2 2>&1 >/dev/null |
    grep "TensorFlow.js backend"')
echo "no-openblas: $line"
[[ "$line" == *"tfjs-native kernels (built-in SGEMM "* ]]
