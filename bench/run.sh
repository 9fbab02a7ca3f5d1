#!/usr/bin/env bash
# Benchmarks ImageModule against skopeo and umoci on the same data in the same run (issue 6, DESIGN §8).
#   bash bench/run.sh           full run: ~1 GB reference image, 5 iterations, 1,000-image store
#   bash bench/run.sh --smoke   small workload, 1 iteration: checks the harness works (CI); never pass/fail on time
# Writes bench/RESULTS.md (full) or bench/work/RESULTS.smoke.md (smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full; [ "${1:-}" = "--smoke" ] && mode=smoke
if [ $mode = smoke ]; then iterations=1; images=50; randmb=5; else iterations=5; images=1000; randmb=60; fi

for tool in skopeo umoci docker-registry curl /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install skopeo umoci time python3)" >&2; exit 1; }
done

work="$PWD/bench/work/$mode"
rm -rf "$work"; mkdir -p "$work"
dotnet build ImageModule.sln -c Release -nologo -v quiet >/dev/null
runner="dotnet $PWD/src/ImageModule.Runner/bin/Release/net10.0/imagemodule-run.dll"
export IMAGEMODULE_MANIFEST="$PWD/out/ImageModule/ImageModule.psd1" NO_COLOR=1

# 1. The reference workload, built with umoci: binaries, many small files, incompressible data, a whiteout.
layout="$work/layout"
umoci init --layout "$layout" >/dev/null
umoci new --image "$layout:bench" >/dev/null
if [ $mode = smoke ]; then
  bins=/usr/share/dotnet/shared/Microsoft.NETCore.App; small=/usr/share/doc
else
  bins=/usr/share/dotnet; small="/usr/share/doc /usr/share/locale"
fi
umoci insert --rootless --image "$layout:bench" "$bins" /opt/binaries >/dev/null
staging="$work/small"; mkdir -p "$staging"
for d in $small; do cp -a "$d" "$staging/" 2>/dev/null || true; done
umoci insert --rootless --image "$layout:bench" "$staging" /usr/share/small >/dev/null
rm -rf "$staging"
head -c $((randmb * 1024 * 1024)) /dev/urandom > "$work/random.bin"
umoci insert --rootless --image "$layout:bench" "$work/random.bin" /data/random.bin >/dev/null
rm -f "$work/random.bin"
umoci insert --rootless --image "$layout:bench" --whiteout /usr/share/small/doc >/dev/null 2>&1 || true
skopeo copy -q "oci:$layout:bench" "docker-archive:$work/reference.tar:bench/ref:1" >/dev/null
uncompressed=$(python3 -c "import json,sys,glob,os; print(sum(os.path.getsize(p) for p in glob.glob('$layout/blobs/sha256/*')))")

results="$work/results.jsonl"; : > "$results"
# time_cmd NAME SIDE COMMAND...: wall, user+sys CPU and peak RSS of one process tree.
time_cmd() {
  local name=$1 side=$2; shift 2
  if ! /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" "$@" >/dev/null 2>"$work/stderr.txt"; then
    echo "bench: '$name' ($side) failed: $*" >&2; cat "$work/stderr.txt" >&2; exit 1
  fi
  read -r wall user sys rss < "$work/time.txt"
  echo "{\"op\":\"$name\",\"side\":\"$side\",\"wall\":$wall,\"cpu\":$(python3 -c "print($user+$sys)"),\"rss_kb\":$rss}" >> "$results"
}

store="$work/store"
export IMAGEMODULE_STORE="$store"
$runner -Command "Import-Image -Path '$work/reference.tar' | Out-Null" >/dev/null

for i in $(seq 1 "$iterations"); do
  # save: ours (cold process) vs skopeo oci → docker-archive, alternately.
  rm -f "$work/ours.tar" "$work/peer.tar"
  time_cmd save ours $runner -Command "Save-Image bench/ref:1 -Path '$work/ours.tar' -Force | Out-Null"
  time_cmd save skopeo skopeo copy -q "oci:$layout:bench" "docker-archive:$work/peer.tar:bench/ref:1"
  # load into an empty store: ours vs skopeo docker-archive → oci.
  rm -rf "$work/load-ours" "$work/load-peer"
  time_cmd load ours env IMAGEMODULE_STORE="$work/load-ours" $runner -Command "Import-Image -Path '$work/reference.tar' | Out-Null"
  time_cmd load skopeo skopeo copy -q "docker-archive:$work/reference.tar" "oci:$work/load-peer:bench"
  # expand: ours vs umoci unpack --rootless.
  rm -rf "$work/x-ours" "$work/x-peer"
  time_cmd expand ours $runner -Command "Expand-Image bench/ref:1 -DestinationPath '$work/x-ours' | Out-Null"
  time_cmd expand umoci umoci unpack --rootless --image "$layout:bench" "$work/x-peer"
  rm -rf "$work/x-ours" "$work/x-peer" "$work/load-ours" "$work/load-peer"
done

# Registry: pull into an empty store, re-pull when every blob is present, push to an empty repository.
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
remote="127.0.0.1:$port/bench/ref:1"
skopeo copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://$remote" >/dev/null
for i in $(seq 1 "$iterations"); do
  rm -rf "$work/pull-ours" "$work/pull-peer"
  time_cmd pull ours env IMAGEMODULE_STORE="$work/pull-ours" $runner -Command "Install-Image '$remote' | Out-Null"
  time_cmd pull skopeo skopeo copy -q --src-tls-verify=false "docker://$remote" "oci:$work/pull-peer:bench"
  time_cmd repull ours env IMAGEMODULE_STORE="$work/pull-ours" $runner -Command "Install-Image '$remote' | Out-Null"
  time_cmd repull skopeo skopeo copy -q --src-tls-verify=false "docker://$remote" "oci:$work/pull-peer:bench"
  time_cmd push ours $runner -Command "Publish-Image bench/ref:1 -Destination '127.0.0.1:$port/push-ours-$i/ref:1' | Out-Null"
  time_cmd push skopeo skopeo copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://127.0.0.1:$port/push-peer-$i/ref:1"
done
rm -rf "$work/pull-ours" "$work/pull-peer"

# Listing: a store of many small tagged images, measured warm (inside one engine, as at a prompt) and cold.
many="$work/many"
$runner -File bench/warm.ps1  -Store "$many" -Images "$images" -Iterations "$iterations" -Results "$results" -Work "$work" -Reference "$work/reference.tar" -Remote "$remote" >/dev/null
for i in $(seq 1 "$iterations"); do
  time_cmd list-cold ours env IMAGEMODULE_STORE="$many" $runner -Command "Get-Image | Out-Null"
done

python3 bench/report.py "$results" "$mode" "$uncompressed" "$images" > "$work/RESULTS.md"
if [ $mode = full ]; then cp "$work/RESULTS.md" bench/RESULTS.md; echo "wrote bench/RESULTS.md"; else echo "wrote $work/RESULTS.md"; fi
cat "$work/RESULTS.md"
# Keep the table and raw numbers; the workload is gigabytes.
find "$work" -mindepth 1 -maxdepth 1 ! -name RESULTS.md ! -name results.jsonl -exec rm -rf {} +
