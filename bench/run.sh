#!/usr/bin/env bash
# Benchmarks ImageModule against skopeo, umoci and docker on the same data in the same run (issue 6, DESIGN §8).
#   bash bench/run.sh           full run: ~1 GB reference image, 5 iterations, 1,000-image store
#   bash bench/run.sh --smoke   small workload, 1 iteration: checks the harness works (CI); never pass/fail on time
# Writes bench/RESULTS.md (full) or bench/work/smoke/RESULTS.md (smoke). Starts its own docker-registry instances
# and, when dockerd is installed and we are root, its own dockerd (vfs, own root and socket); all are stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full; [ "${1:-}" = "--smoke" ] && mode=smoke
if [ $mode = smoke ]; then iterations=1; images=20; randmb=2; else iterations=5; images=1000; randmb=60; fi

for tool in skopeo umoci docker-registry curl /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install skopeo umoci time python3)" >&2; exit 1; }
done

work="$PWD/bench/work/$mode"
rm -rf "$work"; mkdir -p "$work"
dotnet build ImageModule.sln -c Release -nologo -v quiet >/dev/null
# Ours runs in real pwsh (the pinned tool tests/run.sh and run.sh install, tools/pwsh.sh), started as the engine
# itself (dotnet pwsh.dll) rather than through the tool's launcher process; out/ is on PSModulePath, so the built
# module loads the first time a command uses one of its cmdlets, as an installed module would.
pwsh="$(bash tools/pwsh.sh)"
pwsh_dll="$(ls "$PWD"/out/tools/.store/powershell/*/powershell/*/tools/net10.0/any/unix/pwsh.dll 2>/dev/null | head -1)"
if [ -n "$pwsh_dll" ]; then runner="dotnet $pwsh_dll -NoProfile -NonInteractive"; else runner="$pwsh -NoProfile -NonInteractive"; fi
export PSModulePath="$PWD/out${PSModulePath:+:$PSModulePath}" NO_COLOR=1

# 1. The reference workload, built with umoci: binaries, many small files, incompressible data, a whiteout.
#    build_workload LAYOUT COPIES: COPIES=2 is the doubled variant (binaries twice in their one layer, twice the
#    random data), used to check that peak memory stays flat when layers grow.
if [ $mode = smoke ]; then
  bins=$(ls -d /usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Private.*.dll); small=$(ls -d /usr/share/doc/[a-c]*)
else
  bins=/usr/share/dotnet; small="/usr/share/doc /usr/share/locale"
fi
build_workload() {
  local layout=$1 copies=$2 staging="$work/staging"
  umoci init --layout "$layout" >/dev/null
  umoci new --image "$layout:bench" >/dev/null
  rm -rf "$staging"; mkdir -p "$staging"
  for c in $(seq 1 "$copies"); do mkdir -p "$staging/$c"; cp -a $bins "$staging/$c/"; done
  umoci insert --rootless --image "$layout:bench" "$staging" /opt/binaries >/dev/null
  rm -rf "$staging"; mkdir -p "$staging"
  for d in $small; do cp -a "$d" "$staging/" 2>/dev/null || true; done
  umoci insert --rootless --image "$layout:bench" "$staging" /usr/share/small >/dev/null
  rm -rf "$staging"
  head -c $((randmb * copies * 1024 * 1024)) /dev/urandom > "$work/random.bin"
  umoci insert --rootless --image "$layout:bench" "$work/random.bin" /data/random.bin >/dev/null
  rm -f "$work/random.bin"
  umoci insert --rootless --image "$layout:bench" --whiteout /usr/share/small/doc >/dev/null 2>&1 || true
}
blob_bytes() { python3 -c "import glob,os,sys; s=[os.path.getsize(p) for p in glob.glob(sys.argv[1]+'/blobs/sha256/*')]; print(sum(s), max(s))" "$1"; }
layout="$work/layout"
build_workload "$layout" 1
skopeo copy -q "oci:$layout:bench" "docker-archive:$work/reference.tar:bench/ref:1" >/dev/null
read -r uncompressed largest < <(blob_bytes "$layout")
layout2="$work/layout-x2"
build_workload "$layout2" 2
skopeo copy -q "oci:$layout2:bench" "docker-archive:$work/reference-x2.tar:bench/ref2:1" >/dev/null
read -r uncompressed2 largest2 < <(blob_bytes "$layout2")
printf '{"blobs":%s,"largest":%s,"blobs_x2":%s,"largest_x2":%s}\n' "$uncompressed" "$largest" "$uncompressed2" "$largest2" > "$work/meta.json"

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

# Cleanup at exit: the registries and dockerd this script started (by their pids), and dockerd's root.
pids=(); docker_root=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  if [ -n "$docker_root" ]; then umount -R "$docker_root" 2>/dev/null || true; rm -rf "$docker_root"; fi
}
trap cleanup EXIT
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
# start_registry DIR: an empty docker-registry on a free loopback port; sets reg_addr to its host:port.
start_registry() {
  local dir=$1 port; port=$(free_port); mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/data" "$port" > "$dir/registry.yml"
  docker-registry serve "$dir/registry.yml" >/dev/null 2>&1 &
  pids+=($!); echo "$!" > "$dir/pid"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  reg_addr="127.0.0.1:$port"
}
stop_registry() {
  local dir=$1 pid p kept=(); pid=$(cat "$dir/pid"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done; pids=("${kept[@]}")
  rm -rf "$dir"
}

# Docker as a peer for save and load: our own dockerd (vfs, no networking, its own root and socket), bounded wait.
docker_note=""
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  docker_note="dockerd is not installed here: the docker save/load rows are skipped."
elif [ "$(id -u)" != 0 ]; then
  docker_note="dockerd needs root: the docker save/load rows are skipped."
else
  docker_root=$(mktemp -d /tmp/imb-docker-XXXXXX)
  dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none --data-root "$docker_root/data" \
    --exec-root "$docker_root/exec" --pidfile "$docker_root/docker.pid" -H "unix://$docker_root/docker.sock" \
    > "$docker_root/dockerd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do docker -H "unix://$docker_root/docker.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  if docker -H "unix://$docker_root/docker.sock" version >/dev/null 2>&1; then
    export DOCKER_HOST="unix://$docker_root/docker.sock"
    docker load -q -i "$work/reference.tar" >/dev/null
  else
    docker_note="dockerd did not answer within 60 s: the docker save/load rows are skipped."
    tail -5 "$docker_root/dockerd.log" >&2
  fi
fi
if [ -n "$docker_note" ]; then echo "bench: $docker_note" >&2; fi
echo "${docker_note}" > "$work/docker-note.txt"

# This machine's SHA-256, gunzip and write+fsync throughput, to explain the numbers.
largest_blob=$(ls -S "$layout"/blobs/sha256/* | head -1)
$runner -File bench/throughput.ps1 -Blob "$largest_blob" -Results "$results" -Work "$work" -WriteMB "$([ $mode = smoke ] && echo 64 || echo 1024)" >/dev/null

store="$work/store"
export IMAGEMODULE_STORE="$store"
# Our store gets the very blobs the peers read (the umoci layout's gzip layers). skopeo's docker-archive holds the
# layers uncompressed, so a store filled by Import-Image from it would push and save twice the bytes.
$runner -Command "Copy-Image -Source 'oci:$layout:bench' -Destination store:bench/ref:1 | Out-Null" >/dev/null
time_cmd idle ours $runner -Command "Import-Module ImageModule"

for i in $(seq 1 "$iterations"); do
  # save: ours (cold process) vs skopeo oci → docker-archive and docker save, alternately.
  rm -f "$work/ours.tar" "$work/peer.tar"
  time_cmd save ours $runner -Command "Save-Image bench/ref:1 -Path '$work/ours.tar' -Force | Out-Null"
  time_cmd save skopeo skopeo copy -q "oci:$layout:bench" "docker-archive:$work/peer.tar:bench/ref:1"
  rm -f "$work/peer.tar"
  if [ -z "$docker_note" ]; then time_cmd save docker docker save -o "$work/peer.tar" bench/ref:1; fi
  rm -f "$work/ours.tar" "$work/peer.tar"
  # load into an empty store: ours vs skopeo docker-archive → oci and docker load into an engine without the image.
  rm -rf "$work/load-ours" "$work/load-peer"
  time_cmd load ours env IMAGEMODULE_STORE="$work/load-ours" $runner -Command "Import-Image -Path '$work/reference.tar' | Out-Null"
  time_cmd load skopeo skopeo copy -q "docker-archive:$work/reference.tar" "oci:$work/load-peer:bench"
  if [ -z "$docker_note" ]; then
    docker rmi -f bench/ref:1 >/dev/null
    time_cmd load docker docker load -q -i "$work/reference.tar"
  fi
  # expand: ours vs umoci unpack --rootless.
  rm -rf "$work/x-ours" "$work/x-peer"
  time_cmd expand ours $runner -Command "Expand-Image bench/ref:1 -DestinationPath '$work/x-ours' | Out-Null"
  time_cmd expand umoci umoci unpack --rootless --image "$layout:bench" "$work/x-peer"
  rm -rf "$work/x-ours" "$work/x-peer" "$work/load-ours" "$work/load-peer"
done

# Registry: pull into an empty store, re-pull when every blob is present, push to an empty registry.
start_registry "$work/registry"; registry=$reg_addr
remote="$registry/bench/ref:1"
skopeo copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://$remote" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$layout2:bench" "docker://$registry/bench/ref2:1" >/dev/null
for i in $(seq 1 "$iterations"); do
  rm -rf "$work/pull-ours" "$work/pull-peer"
  time_cmd pull ours env IMAGEMODULE_STORE="$work/pull-ours" $runner -Command "Install-Image '$remote' | Out-Null"
  time_cmd pull skopeo skopeo copy -q --src-tls-verify=false "docker://$remote" "oci:$work/pull-peer:bench"
  time_cmd repull ours env IMAGEMODULE_STORE="$work/pull-ours" $runner -Command "Install-Image '$remote' | Out-Null"
  time_cmd repull skopeo skopeo copy -q --src-tls-verify=false "docker://$remote" "oci:$work/pull-peer:bench"
  # Each push goes to a registry of its own, started empty: skopeo's blob-info cache knows where the workload's
  # blobs live on the main registry and would mount them across repositories there instead of uploading.
  start_registry "$work/push-ours"; target=$reg_addr
  time_cmd push ours $runner -Command "Publish-Image bench/ref:1 -Destination '$target/push/ref:1' | Out-Null"
  stop_registry "$work/push-ours"
  start_registry "$work/push-peer"; target=$reg_addr
  time_cmd push skopeo skopeo copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://$target/push/ref:1"
  stop_registry "$work/push-peer"
done
rm -rf "$work/pull-ours" "$work/pull-peer"

# Peak memory with layers twice as large: ours only, the same four operations on the doubled workload.
store2="$work/store-x2"
IMAGEMODULE_STORE="$store2" $runner -Command "Copy-Image -Source 'oci:$layout2:bench' -Destination store:bench/ref2:1 | Out-Null" >/dev/null
for i in $(seq 1 "$(( iterations < 3 ? iterations : 3 ))"); do
  rm -rf "$work/pull-ours" "$work/load-ours" "$work/x-ours" "$work/ours.tar"
  time_cmd pull-x2 ours env IMAGEMODULE_STORE="$work/pull-ours" $runner -Command "Install-Image '$registry/bench/ref2:1' | Out-Null"
  time_cmd save-x2 ours env IMAGEMODULE_STORE="$store2" $runner -Command "Save-Image bench/ref2:1 -Path '$work/ours.tar' -Force | Out-Null"
  time_cmd load-x2 ours env IMAGEMODULE_STORE="$work/load-ours" $runner -Command "Import-Image -Path '$work/reference-x2.tar' | Out-Null"
  time_cmd expand-x2 ours env IMAGEMODULE_STORE="$store2" $runner -Command "Expand-Image bench/ref2:1 -DestinationPath '$work/x-ours' | Out-Null"
  rm -rf "$work/pull-ours" "$work/load-ours" "$work/x-ours" "$work/ours.tar"
done
rm -rf "$store2"

# Listing: a store of many small tagged images, measured warm (inside one engine, as at a prompt) and cold.
# Warm pushes, like cold ones, each go to a registry started empty for them.
many="$work/many"; push_targets=()
for i in $(seq 1 "$iterations"); do start_registry "$work/push-warm-$i"; push_targets+=("$reg_addr"); done
$runner -File bench/warm.ps1  -Store "$many" -Images "$images" -Iterations "$iterations" -Results "$results" -Work "$work" \
  -Reference "$work/reference.tar" -Layout "$layout" -Remote "$remote" -PushRegistries "$(IFS=,; echo "${push_targets[*]}")" >/dev/null
for i in $(seq 1 "$iterations"); do stop_registry "$work/push-warm-$i"; done
for i in $(seq 1 "$iterations"); do
  time_cmd list-cold ours env IMAGEMODULE_STORE="$many" $runner -Command "Get-Image | Out-Null"
done

python3 bench/report.py "$results" "$mode" "$uncompressed" "$images" "$work/meta.json" "$work/docker-note.txt" > "$work/RESULTS.md"
if [ $mode = full ]; then cp "$work/RESULTS.md" bench/RESULTS.md; echo "wrote bench/RESULTS.md"; else echo "wrote $work/RESULTS.md"; fi
cat "$work/RESULTS.md"
# Keep the table and raw numbers; the workload is gigabytes.
find "$work" -mindepth 1 -maxdepth 1 ! -name RESULTS.md ! -name results.jsonl -exec rm -rf {} +
