#!/usr/bin/env bash
# The full test suite (README): installs the real peers the tests use, the pinned pwsh and Pester (into out/tools),
# builds, runs every xunit project, the Pester suite under real pwsh and the bench smoke, and prints one closing line
# "N passed, N failed" over all suites. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive as real peers.
PACKAGES="skopeo umoci docker-registry apache2-utils busybox-static tar gzip zstd time docker.io podman golang-docker-credential-helpers pass"
# zstd too: without it the zstd interop tests would have nothing to compare with.
TOOLS="skopeo umoci docker-registry htpasswd busybox zstd /usr/bin/time dockerd podman docker-credential-pass gpg"

missing=""
for tool in $TOOLS; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing test peers (missing:$missing)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  else
    echo "Missing test tools:$missing (install: sudo apt-get install $PACKAGES)" >&2
    exit 1
  fi
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# Real pwsh and Pester, pinned, from NuGet (tests/pester.sh installs them when absent; here before the build so a
# failed install stops the run early).
bash tools/pwsh.sh >/dev/null

dotnet build ImageModule.sln -c Release -nologo -v quiet

status=0
for project in tests/ImageModule.Core.Tests tests/ImageModule.Tests; do
  name="$(basename "$project")"
  timeout 1800 dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
done

# The Pester suite under real pwsh: its NUnit XML result is counted below; a crash, a failed setup or no test run
# at all makes tests/pester.sh exit non-zero, which counts as a failure even when the XML shows none.
pester_status=0
bash tests/pester.sh --no-build --result "$results/pester.xml" || pester_status=$?
[ "$pester_status" = 0 ] || status=1

# The benchmark harness in smoke mode: it must run and produce its table (timings are never judged here).
bench_ok=0
if timeout 900 bash bench/run.sh --smoke > "$results/bench.log" 2>&1 && grep -q '^| save' bench/work/smoke/RESULTS.md; then
  bench_ok=1; echo "bench smoke: table produced (bench/work/smoke/RESULTS.md)"
else
  status=1; echo "bench smoke FAILED:"; tail -20 "$results/bench.log"
fi

python3 - "$results" "$bench_ok" "$pester_status" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
if sys.argv[2] == "1": passed += 1
else: failed += 1
pester = os.path.join(sys.argv[1], "pester.xml")
pester_failed = 0
if os.path.exists(pester):
    for case in ET.parse(pester).getroot().iter("test-case"):
        result = case.get("result")
        if result == "Success": passed += 1
        elif result in ("Failure", "Error"): pester_failed += 1
        else: skipped += 1
if sys.argv[3] != "0" and pester_failed == 0:
    pester_failed = 1  # Pester crashed, a setup block failed, or no test ran: one failure, never a silent pass
failed += pester_failed
for path in glob.glob(sys.argv[1] + "/*.trx"):
    counters = ET.parse(path).getroot().find("{*}ResultSummary/{*}Counters")
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0))
    skipped += int(counters.get("notExecuted", 0))
line = f"{passed} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
