#!/usr/bin/env bash
# The README's main job: build the module and run examples/demo.ps1 (or the script/command you pass) in the real
# PowerShell engine, against the default store ($IMAGEMODULE_STORE or ~/.local/share/imagemodule).
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then set -- -File examples/demo.ps1; fi
exec dotnet run --project src/ImageModule.Runner -c Release -- "$@"
