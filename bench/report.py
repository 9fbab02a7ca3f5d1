#!/usr/bin/env python3
"""Turns bench/work/*/results.jsonl into the RESULTS.md table: medians, ratios (ours / peer), MB/s, peak RSS."""
import json, os, statistics, sys, datetime, platform

path, mode, size_bytes, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["op"], r["side"]), []).append(r)

def med(op, side, key):
    v = [r[key] for r in by.get((op, side), [])]
    return statistics.median(v) if v else None

mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
print(f"# Benchmark results ({mode})\n")
print(f"{datetime.date.today()}, {platform.node()}: {os.cpu_count()} cores, {mem:.0f} GiB memory. "
      f"Reference image: {size_bytes / 1e6:.0f} MB of compressed blobs; list store: {images} images. "
      "Ours is measured cold (a new process, engine start-up included) unless marked warm. "
      "Medians; ratio = ours / peer, lower is better.\n")
print("| operation | ours wall s | peer | peer wall s | ratio | ours MB/s | ours CPU s | peer CPU s | ours peak RSS MiB | peer peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for op, peer in (("pull", "skopeo"), ("repull", "skopeo"), ("push", "skopeo"), ("save", "skopeo"), ("load", "skopeo"), ("expand", "umoci")):
    ow, pw = med(op, "ours", "wall"), med(op, peer, "wall")
    if ow is None or pw is None: continue
    warm = med(op, "ours-warm", "wall")
    if warm is not None:
        print(f"| {op} (warm) | {warm:.2f} | {peer} | {pw:.2f} | {warm / pw:.2f} | {size_bytes / 1e6 / warm:.0f} | — | — | — | — |")
    print(f"| {op} | {ow:.2f} | {peer} | {pw:.2f} | {ow / pw if pw else float('nan'):.2f} | {size_bytes / 1e6 / ow if ow else 0:.0f} | "
          f"{med(op, 'ours', 'cpu'):.2f} | {med(op, peer, 'cpu'):.2f} | {med(op, 'ours', 'rss_kb') / 1024:.0f} | {med(op, peer, 'rss_kb') / 1024:.0f} |")
for op, label in (("list-warm", "Get-Image (warm)"), ("filter-warm", "Get-Image \\| Where-Object Size -gt 100MB (warm)"), ("list-cold", "Get-Image (cold process)")):
    w = med(op, "ours-warm" if op.endswith("warm") else "ours", "wall")
    if w is not None:
        print(f"| {label}, {images} images | {w * 1000:.0f} ms | — | — | — | — | — | — | — | — |")
print("\nPull, re-pull and push run against docker-registry on loopback. skopeo's push is near-instant because it mounts "
      "the blobs from the repository the workload was first pushed to (cross-repository mount); ours uploads them, as "
      "mounting is not built yet. Our pull also decompresses every layer once to report the uncompressed Size.")
