#!/usr/bin/env bash
# The Pester suite (tests/Pester) under real pwsh, alone: installs the pinned pwsh and Pester into out/tools when
# absent, builds the module (unless --no-build), and runs every *.Tests.ps1 (or the files/folders given).
#   bash tests/pester.sh [--no-build] [--result FILE.xml] [--filter 'Describe name*'] [path ...]
# Exit status is non-zero on any failed test, failed setup, crash, or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
# The pinned version is named once, in the restore-only project.
pester_version="$(sed -n 's:.*<PesterVersion[^>]*>\([^<]*\)</PesterVersion>.*:\1:p' tests/Pester/tools/PesterRestore.csproj)"

build=1; result=""; filter=(); paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --result) result="$2"; shift ;;
    --filter) filter+=("$2"); shift ;;
    *) paths+=("$(realpath "$1")") ;;
  esac
  shift
done

pwsh="$(bash tools/pwsh.sh)"
pester="$repo/out/tools/packages/pester/$pester_version/tools/Pester.psd1"
if ! [ -f "$pester" ]; then
  dotnet restore tests/Pester/tools/PesterRestore.csproj --packages "$repo/out/tools/packages" -nologo -v quiet >&2
fi
[ -f "$pester" ] || { echo "Pester $pester_version did not restore to $pester" >&2; exit 1; }
if [ "$build" = 1 ]; then dotnet build ImageModule.sln -c Release -nologo -v quiet; fi

args=(-PesterModule "$pester")
[ -n "$result" ] && args+=(-ResultPath "$result")
[ ${#paths[@]} -gt 0 ] && args+=(-Path "$(IFS=,; echo "${paths[*]}")")
[ ${#filter[@]} -gt 0 ] && args+=(-FullNameFilter "$(IFS=,; echo "${filter[*]}")")
# NO_COLOR keeps escape codes out of logs; -NonInteractive makes a prompt a failure instead of a hang.
NO_COLOR=1 exec timeout 1500 "$pwsh" -NoProfile -NonInteractive -File tests/Pester/Invoke-Tests.ps1 "${args[@]}"
