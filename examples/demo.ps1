# A tour of ImageModule against the default store. Builds a real root filesystem (busybox + data) with tar,
# imports it, tags, lists, inspects, saves, reloads and removes — the docker image workflow without a daemon.
$ErrorActionPreference = 'Stop'
$work = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'imagemodule-demo-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
$rootfs = [IO.Path]::Combine($work, 'rootfs')
[void][IO.Directory]::CreateDirectory([IO.Path]::Combine($rootfs, 'bin'))
[void][IO.Directory]::CreateDirectory([IO.Path]::Combine($rootfs, 'data'))
$busybox = @('/bin/busybox', '/usr/bin/busybox').Where({ [IO.File]::Exists($_) }, 'First')
if ($busybox.Count) { [IO.File]::Copy($busybox[0], [IO.Path]::Combine($rootfs, 'bin', 'busybox')) }
$bytes = [byte[]]::new(8MB); [Random]::new(42).NextBytes($bytes)
[IO.File]::WriteAllBytes([IO.Path]::Combine($rootfs, 'data', 'random.bin'), $bytes)
$tarball = [IO.Path]::Combine($work, 'rootfs.tar')
& tar -C $rootfs -cf $tarball .

"`n# Import-Image: a filesystem tarball becomes a one-layer image (docker import)"
Import-Image -Path $tarball -Name demo/busybox:1.0 -Change 'ENV GREETING=hello', 'CMD ["/bin/busybox", "sh"]' | Out-Default

"`n# Add-ImageTag (docker tag), then Get-Image (docker images)"
Add-ImageTag -Name demo/busybox:1.0 -Tag localhost:5000/demo/busybox:prod | Out-Null
Get-Image demo/busybox, 'localhost:5000/*' | Out-Default

"`n# Get-ImageLayer (docker history) and Get-ImageFile (what is inside, and which layer wrote it)"
Get-ImageLayer demo/busybox:1.0 | Out-Default
Get-ImageFile demo/busybox:1.0 -Path 'data/*' | Out-Default

"`n# Save-Image (docker save) writes one archive that docker, podman, skopeo and umoci all load"
$archive = [IO.Path]::Combine($work, 'demo.tar')
Save-Image -Name demo/busybox:1.0 -Path $archive | Out-Default

"`n# The sentence that must always work: remove every image over 5MB (with -WhatIf first)"
Get-Image | Where-Object Size -gt 5MB | Remove-Image -WhatIf
Get-Image demo/busybox, 'localhost:5000/*' | Where-Object Size -gt 5MB | Remove-Image

"`n# Import-Image (docker load) brings it back from the archive"
Import-Image -Path $archive | Out-Default
Remove-Image demo/busybox:1.0
[IO.Directory]::Delete($work, $true)
"`nDone. Store: " + [ImageModule.Store.StoreLocation]::Resolve($null)
