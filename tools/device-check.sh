#!/usr/bin/env bash
# The ort-webgpu check for a Linux x86-64 machine with an NVIDIA GPU and no internet.
#
#   tools/device-check.sh pack   here (npm registry and Debian mirror reachable): writes
#                                .devcheck/bundle.tar.xz (about 60 MB) holding this Node binary,
#                                the linux-x64 onnxruntime-node and the few packages the engine
#                                loads, the engine and tests transpiled to out/, Debian's Vulkan
#                                loader and GL dispatch packages (NVIDIA's Vulkan driver is built
#                                on libglvnd), and the llama.cpp peer (node-llama-cpp with only
#                                its linux-x64 Vulkan binaries) from the benchmark's cache.
#                                .devcheck/ is git-ignored: carry it.
#   tools/device-check.sh run    there, in the repository root with .devcheck/ carried: unpacks
#                                the bundle, installs the loaders (dpkg -x, ldconfig), points
#                                them at the NVIDIA driver, then runs the WebGPU and CPU parity
#                                tests (a missing adapter fails instead of skipping) and the
#                                benchmark: ort-webgpu beside llama.cpp's Vulkan build on the same
#                                GPU, shapes and random weights. Logs go to $OUT (or .devcheck/results).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dc=".devcheck"

die() { echo "device-check: $*" >&2; exit 1; }

# The Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver (libGLX_nvidia) links to.
LOADER_DEBS="libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2"

pack() {
  [ "$(uname -m)" = x86_64 ] || die "pack on x86-64: the bundle carries this machine's Node binary and the linux-x64 onnxruntime."
  local ortbin="node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
  [ -f "$ortbin/libonnxruntime.so.1" ] || die "$ortbin is missing: run npm install first."
  local stage
  stage="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$stage'" EXIT
  mkdir -p "$dc" "$stage/$dc" "$stage/node_modules"
  chmod 755 "$stage" "$stage/$dc" # apt-get download fetches as the _apt user
  grep -qx "/$dc/" .git/info/exclude 2>/dev/null || echo "/$dc/" >> .git/info/exclude
  cp "$(command -v node)" "$stage/$dc/node"
  # The engine loads onnxruntime-node (+ its common API), protobufjs (+ long) and gpt-tokenizer's
  # CommonJS build (the GGUF writer reads its vocabulary); nothing else.
  for pkg in onnxruntime-common protobufjs long; do cp -r "node_modules/$pkg" "$stage/node_modules/"; done
  mkdir -p "$stage/node_modules/gpt-tokenizer"
  cp -r node_modules/gpt-tokenizer/package.json node_modules/gpt-tokenizer/cjs "$stage/node_modules/gpt-tokenizer/"
  find "$stage/node_modules/gpt-tokenizer" -name '*.map' -delete
  # The peer, from the bench cache (`npm run bench` installs it there): its JavaScript and
  # dependencies, and of its prebuilt binaries only linux-x64-vulkan; not its llama.cpp sources.
  local peer="${LIMELIGHT_BENCH_CACHE:-$HOME/.cache/limelight-bench}/node_modules"
  [ -f "$peer/node-llama-cpp/package.json" ] || die "$peer/node-llama-cpp is missing: run 'npm run bench -- --shapes starter --formats q8_0 --threads 1 --runs 1' once to install the peer."
  mkdir -p "$stage/$dc/bench"
  tar -C "$peer/.." --exclude='node_modules/@node-llama-cpp/linux-[!x]*' --exclude='node_modules/@node-llama-cpp/linux-x64' \
    --exclude='node_modules/@node-llama-cpp/linux-x64-cuda*' --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' \
    -cf - node_modules | tar -C "$stage/$dc/bench" -xf -
  mkdir -p "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux"
  cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib "$stage/node_modules/onnxruntime-node/"
  cp -r "$ortbin" "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/"
  # Transpile like `node tools/build.mjs --tests`, into the stage (the shared out/ is left alone).
  local files
  files="$(find engine tools/bench -name '*.ts' ! -name '*.d.ts'; ls test/unit/ort*.test.ts test/unit/oracle.ts)"
  # shellcheck disable=SC2086
  node_modules/.bin/esbuild $files --outdir="$stage/out" --outbase=. --platform=node --target=node20 --format=cjs --log-level=warning
  (cd "$stage/$dc" && apt-get download $LOADER_DEBS >/dev/null) || die "apt-get download $LOADER_DEBS failed: run apt-get update first."
  XZ_OPT="${XZ_OPT:--T0}" tar -C "$stage" -cJf "$dc/bundle.tar.xz" "$dc" node_modules out
  echo "device-check: wrote $dc/bundle.tar.xz ($(du -h "$dc/bundle.tar.xz" | cut -f1)). On the GPU machine, carry $dc and run: tools/device-check.sh run"
}

run() {
  [ -f "$dc/bundle.tar.xz" ] || die "$dc/bundle.tar.xz is missing: run 'tools/device-check.sh pack' where the internet is reachable, and carry $dc."
  local results="${OUT:-$root/$dc/results}"
  mkdir -p "$results"
  tar -xJf "$dc/bundle.tar.xz"
  local node="$root/$dc/node"
  "$node" --version >/dev/null || die "the carried Node binary does not run here."
  # Loaders from Debian's packages, unpacked into / where the image lacks them.
  local deb
  for deb in "$dc"/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  # The NVIDIA driver's Vulkan ICD and EGL vendor file: system locations first, then the driver's own mount.
  if ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
    done
  fi
  local egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    echo "node $("$node" --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-system}"
    # What the ICD's library still misses, if anything: the usual cause of "No supported adapters".
    local icdlib
    icdlib="$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/nvidia_icd.json}" 2>/dev/null || true)"
    if [ -n "$icdlib" ]; then
      case "$icdlib" in /*) ;; *) icdlib="$(ldconfig -p | awk -v l="$icdlib" '$1==l {print $NF; exit}')" ;; esac
      echo "ICD library: ${icdlib:-not found by ldconfig}"
      [ -n "$icdlib" ] && { ldd "$icdlib" | grep 'not found' || echo "ICD library: all dependencies found"; }
    fi
  } | tee "$results/device.txt"
  local status=0
  LIMELIGHT_REQUIRE_WEBGPU=1 "$node" --test --test-reporter=spec out/test/unit/ortWebgpu.test.js out/test/unit/ortOracle.test.js out/test/unit/ortSelect.test.js 2>&1 | tee "$results/tests.txt" || status=1
  # Our WebGPU rows beside llama.cpp's Vulkan build, on the same GPU in the same call.
  LIMELIGHT_BENCH_CACHE="$root/$dc/bench" "$node" out/tools/bench/main.js --engines llama.cpp,ort-webgpu --peer-gpu \
    --shapes "${BENCH_SHAPES:-gpt2-124m,starter}" --formats f32,f16,q8_0 --threads 2 --runs "${BENCH_RUNS:-5}" 2>&1 | tee "$results/bench.txt" || status=1
  return "$status"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) die "usage: tools/device-check.sh pack | run (see the comment at the top)" ;;
esac
