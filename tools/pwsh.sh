#!/usr/bin/env bash
# Real pwsh, pinned, installed from NuGet as a .NET tool into out/tools (ignored) when absent; prints its path.
# Used by run.sh, tests/run.sh and tests/pester.sh so every one of them runs the same PowerShell.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="7.6.9"
tools="$repo/out/tools"
# The tool store keeps one folder per installed version: another version there is replaced by the pinned one.
if ! [ -x "$tools/pwsh" ] || ! [ -d "$tools/.store/powershell/$version" ]; then
  mkdir -p "$tools"
  dotnet tool uninstall PowerShell --tool-path "$tools" >/dev/null 2>&1 || true
  dotnet tool install PowerShell --version "$version" --tool-path "$tools" >&2
fi
echo "$tools/pwsh"
