#!/usr/bin/env bash
# The README's main job: build the module and run examples/demo.ps1 (or the pwsh arguments you pass, e.g.
# -Command "Get-Image" or -File my.ps1) in real pwsh — the pinned PowerShell 7.6.9, installed from NuGet into
# out/tools when absent (tools/pwsh.sh) — against the default store ($IMAGEMODULE_STORE or ~/.local/share/imagemodule).
set -euo pipefail
cd "$(dirname "$0")"
pwsh="$(bash tools/pwsh.sh)"
dotnet build ImageModule.sln -c Release -nologo -v quiet >&2
if [ $# -eq 0 ]; then set -- -File examples/demo.ps1; fi
# out/ on PSModulePath: the built module loads itself the first time one of its cmdlets is used, as an installed one would.
export PSModulePath="$PWD/out${PSModulePath:+:$PSModulePath}"
exec "$pwsh" -NoProfile -NoLogo "$@"
