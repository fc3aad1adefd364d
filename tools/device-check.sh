#!/usr/bin/env bash
# The ort-webgpu check for a Linux x86-64 machine with an NVIDIA GPU and no internet.
#
#   tools/device-check.sh pack   here (npm registry and Debian mirror reachable): writes
#                                .devcheck/bundle.tar.xz (about 40 MB) holding this Node binary,
#                                the linux-x64 onnxruntime-node and the few packages the engine
#                                loads, the engine and tests transpiled to out/, and Debian's
#                                libvulkan1 package. .devcheck/ is git-ignored: carry it.
#   tools/device-check.sh run    there, in the repository root with .devcheck/ carried: unpacks
#                                the bundle, installs the Vulkan loader (dpkg -x, ldconfig),
#                                points it at the NVIDIA driver, then runs the WebGPU and CPU
#                                parity tests (a missing adapter fails instead of skipping) and
#                                the ort benchmark on ort-webgpu and ort-cpu. Logs go to $OUT
#                                (or .devcheck/results). Set PEER_BENCH to a command that runs the
#                                llama.cpp peer on the same shapes to have it timed in the same call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dc=".devcheck"

die() { echo "device-check: $*" >&2; exit 1; }

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
  # The engine loads onnxruntime-node (+ its common API) and protobufjs (+ long); nothing else.
  for pkg in onnxruntime-common protobufjs long; do cp -r "node_modules/$pkg" "$stage/node_modules/"; done
  mkdir -p "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux"
  cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib "$stage/node_modules/onnxruntime-node/"
  cp -r "$ortbin" "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/"
  # Transpile like `node tools/build.mjs --tests`, into the stage (the shared out/ is left alone).
  local files
  files="$(find engine tools/bench -name '*.ts' ! -name '*.d.ts'; ls test/unit/ort*.test.ts test/unit/oracle.ts)"
  # shellcheck disable=SC2086
  node_modules/.bin/esbuild $files --outdir="$stage/out" --outbase=. --platform=node --target=node20 --format=cjs --log-level=warning
  (cd "$stage/$dc" && apt-get download libvulkan1 >/dev/null) || die "apt-get download libvulkan1 failed: run apt-get update first."
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
  # Vulkan loader from Debian's package, unpacked into / (the image has none).
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
    for deb in "$dc"/libvulkan1_*.deb; do dpkg -x "$deb" /; done
    ldconfig
  fi
  # The NVIDIA driver's Vulkan ICD: system locations first, then the driver's own mount.
  if ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
    done
  fi
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    echo "node $("$node" --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-system}"
  } | tee "$results/device.txt"
  local status=0
  LIMELIGHT_REQUIRE_WEBGPU=1 "$node" --test --test-reporter=spec out/test/unit/ortWebgpu.test.js out/test/unit/ortOracle.test.js out/test/unit/ortSelect.test.js 2>&1 | tee "$results/tests.txt" || status=1
  (
    s=0
    echo "== ort-webgpu"
    "$node" out/tools/bench/ort.js --device webgpu --formats f32 || s=1
    "$node" out/tools/bench/ort.js --device webgpu --formats q8_0 || s=1
    echo "== ort-cpu, 2 threads (this machine's cores, not the 2-core reference machine)"
    "$node" out/tools/bench/ort.js --device cpu --threads 2 || s=1
    if [ -n "${PEER_BENCH:-}" ]; then
      echo "== peer: $PEER_BENCH"
      bash -c "$PEER_BENCH" || s=1
    fi
    exit "$s"
  ) 2>&1 | tee "$results/bench.txt" || status=1
  return "$status"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) die "usage: tools/device-check.sh pack | run (see the comment at the top)" ;;
esac
