#!/bin/sh
# Packs benchmarks/webgpu for a GPU machine that has a GPU driver and python3 with PyTorch but no Bun, no
# node_modules and no network (the device machines here are x86-64 Linux): ./.devbench/ (git-ignored, 44 MB) holds
#   bun.xz             this machine's Bun, xz-compressed (~39 MB)
#   webgpu/run.js      run.ts bundled with everything it imports (bun build; tfjs, tfjs-webgpu, our packages)
#   dawn.node.xz       the `webgpu` package's Dawn for linux-x64 (run.js loads it from webgpu/dist/linux-x64/)
#   webgpu/torch_cuda.py, lib/torch_llama.py   the PyTorch anchor
#   gl/libvulkan1_*.deb   the Vulkan loader (Debian's), for a machine whose image has only the driver's ICD
#   run.sh             unpacks all that under /tmp and runs the benchmark there
# On the GPU machine, from a copy of the repository with .devbench beside it:
#   sh .devbench/run.sh [run.ts options]     (the table goes to $OUT/webgpu.md, or /tmp/webgpu.md without OUT)
# Check it here first, on lavapipe:  RHO1_BACKEND=webgpu sh .devbench/run.sh --smoke --no-torch --cases bench
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.devbench"
rm -rf "$out"
mkdir -p "$out/webgpu" "$out/lib" "$out/gl"
bun build "$root/benchmarks/webgpu/run.ts" --target=bun --outdir "$out/webgpu" >/dev/null
cp "$root/benchmarks/webgpu/torch_cuda.py" "$out/webgpu/"
cp "$root/benchmarks/lib/torch_llama.py" "$out/lib/"
dawn=$(cd "$root" && bun -e 'console.log(require.resolve("webgpu/package.json", { paths: [process.cwd() + "/packages/tfjs-webgpu"] }).replace(/package\.json$/, "dist/linux-x64/dawn.node"))')
xz -T0 -6 -c "$dawn" >"$out/dawn.node.xz"
xz -T0 -6 -c "$(readlink -f "$(command -v bun)")" >"$out/bun.xz"
(cd "$out/gl" && apt-get download libvulkan1 >/dev/null 2>&1) ||
  echo "bundle.sh: could not download libvulkan1; run.sh will need the machine's own Vulkan loader" >&2
cat >"$out/run.sh" <<'RUN'
#!/bin/sh
# Unpacks .devbench into a fresh /tmp/rho1-devbench.* and runs benchmarks/webgpu/run.ts with the given options.
# Without a system Vulkan loader it unpacks gl/*.deb into / (root, as the device machines run commands).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
if ! "$ldconfig" -p | grep -q 'libvulkan\.so\.1'; then
  for f in "$here"/gl/*.deb; do if [ -e "$f" ]; then dpkg -x "$f" /; fi; done
  "$ldconfig"
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
work=$(mktemp -d /tmp/rho1-devbench.XXXXXX)
mkdir -p "$work/webgpu/dist/linux-x64" "$work/lib"
cp -r "$here"/webgpu/. "$work/webgpu/"
cp -r "$here"/lib/. "$work/lib/"
python3 - "$here" "$work" <<'PY'
import lzma, shutil, sys
here, work = sys.argv[1], sys.argv[2]
for src, dst in (("bun.xz", "bun"), ("dawn.node.xz", "webgpu/dist/linux-x64/dawn.node")):
    with lzma.open(f"{here}/{src}") as i, open(f"{work}/{dst}", "wb") as o:
        shutil.copyfileobj(i, o)
PY
chmod +x "$work/bun"
cd "$work/webgpu"
RHO1_BACKEND="${RHO1_BACKEND:-webgpu}" "$work/bun" run.js --out "${OUT:-/tmp}/webgpu.md" "$@"
RUN
du -sh "$out"
