#!/usr/bin/env python3
"""How well and how fast the scanner reads codes, per distortion family and frame size.

    .venv/bin/python bench/scanner.py [--per-family 24] [--seed 0] [--seconds 10] [--json]

1. Renders the camera-free data set (customer_sim/scanner/synthetic.py: payment QR codes, CVCoId
   QR codes and CVCoId Code 128, under each distortion family, at 640×480 and 1280×720).
2. Decodes every frame with each decoder alone (pyzbar, zxing-cpp, OpenCV, OpenCV ArUco) and with
   the scanner's combination, and prints per family and size: frames read right (%), median and
   p95 milliseconds per frame. Target: the combination reads at least as many frames as the best
   single decoder on every family.
3. Replays a 1280×720 video of every family at 30 frames per second, as a camera delivers it, to
   the scanner (background capture, newest frame decoded) and prints the frames captured, decoded
   and skipped, and the capture rate kept. Target: 30 frames per second kept at 1280×720.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from customer_sim.scanner import codes, decoders, sources, synthetic  # noqa: E402
from customer_sim.scanner.scanner import Scanner  # noqa: E402

TARGET_FPS = 30.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


ALTERNATIVE_ORDER = ("zxing-cpp", "pyzbar", "opencv-aruco")  # the same decoders, the fastest first


def read_rates(per_family: int, seed: int) -> list[dict[str, Any]]:
    """One row per family and size: for each decoder, frames read right, median and p95 ms, and the
    frames only it read among the single decoders."""
    singles = decoders.single_decoders()
    chains = {"combination": decoders.scanner_decoder(), "→".join(ALTERNATIVE_ORDER): decoders.chain_of(ALTERNATIVE_ORDER)}
    rows = []
    for size in synthetic.FRAME_SIZES:
        for family in synthetic.FAMILIES:
            batch = list(synthetic.samples(seed=seed, per_family=per_family, families=(family,), sizes=(size,)))
            greys = [decoders.to_grey(sample.frame) for sample in batch]
            row: dict[str, Any] = {"family": family, "size": f"{size[0]}x{size[1]}", "frames": len(batch)}
            hits: dict[str, list[bool]] = {}
            for name, decoder in {**singles, **chains}.items():
                times, hits[name] = [], []
                for sample, grey in zip(batch, greys, strict=True):
                    started = time.perf_counter()
                    found = decoder.decode(grey)
                    times.append((time.perf_counter() - started) * 1000)
                    hits[name].append(any(symbol.text == sample.payload for symbol in found))
                row[name] = {"read": sum(hits[name]), "median_ms": statistics.median(times),
                             "p95_ms": percentile(times, 0.95)}
            for name in singles:
                others = [hits[other] for other in singles if other != name]
                row[name]["only"] = sum(h and not any(o[i] for o in others) for i, h in enumerate(hits[name]))
            best_single = max(row[name]["read"] for name in singles)
            row["combination_not_worse"] = row["combination"]["read"] >= best_single
            rows.append(row)
    return rows


def realtime(seconds: float, seed: int) -> dict[str, Any]:
    """The scanner on a 1280×720 video replayed at 30 fps: what it keeps up with, and what it skips."""
    frames_wanted = int(seconds * TARGET_FPS)
    families = synthetic.FAMILIES
    per_family = max(1, frames_wanted // (len(families) * 3)) * 3
    clips = list(synthetic.samples(seed=seed + 1, per_family=per_family, families=families, sizes=((1280, 720),)))
    with tempfile.TemporaryDirectory() as folder:
        video = synthetic.write_video((s.frame for s in clips), Path(folder) / "camera.avi", fps=TARGET_FPS,
                                      codec="MJPG")  # what a webcam streams
        source = sources.Paced(sources.VideoSource(video))
        accept = codes.Acceptor(codes.kit_bases("http://127.0.0.1:8421"), codes.PaymentCode)
        scanner = Scanner(decoders.scanner_decoder(), lambda text: accept.classify(text), repeat_after_s=0)
        started = time.perf_counter()
        with sources.Capture(source) as capture:
            reads = sum(not isinstance(item, codes.Refused) for item in scanner.scan(capture.frames()))
        elapsed = time.perf_counter() - started
    latencies = scanner.tally.decode_ms
    return {
        "frames": capture.read, "seconds": elapsed, "capture_fps": capture.read / elapsed,
        "decoded": scanner.tally.frames_decoded, "decoded_fps": scanner.tally.frames_decoded / elapsed,
        "skipped": capture.skipped, "reads": reads,
        "latency_median_ms": statistics.median(latencies), "latency_p95_ms": percentile(latencies, 0.95),
        "kept_30fps": capture.read / elapsed >= TARGET_FPS * 0.97,
    }


def describe(rows: list[dict[str, Any]], live: dict[str, Any], per_family: int) -> str:
    names = [n for n in rows[0] if isinstance(rows[0][n], dict)]
    lines = [f"read rate and time per frame ({per_family} frames per family and size; "
             "% read right · median ms · p95 ms)", ""]
    lines += [f"  [{n}] {name}" for n, name in enumerate(names)]
    header = f"{'family':<12} {'size':<9} " + " ".join(f"{f'[{n}]':>22}" for n in range(len(names))) \
        + "  combination ≥ best single"
    lines += ["", header, "-" * len(header)]
    for row in rows:
        cells = " ".join(f"{100 * row[n]['read'] / row['frames']:>5.0f}% {row[n]['median_ms']:6.1f} "
                         f"{row[n]['p95_ms']:6.1f} ms" for n in names)
        lines.append(f"{row['family']:<12} {row['size']:<9} {cells}  {'yes' if row['combination_not_worse'] else 'NO'}")
    totals = {name: sum(row[name]["read"] for row in rows) for name in names}
    frames = sum(row["frames"] for row in rows)
    lines += ["", "all families: " + ", ".join(f"{name} {100 * totals[name] / frames:.1f}%" for name in names)]
    singles = [name for name in names if "only" in rows[0][name]]
    lines.append("frames only one single decoder read: "
                 + ", ".join(f"{name} {sum(row[name]['only'] for row in rows)}" for name in singles))
    overall = all(row["combination_not_worse"] for row in rows)
    lines += ["", f"target: combination reads at least as many frames as the best single decoder on every family: "
                  f"{'MET' if overall else 'NOT MET'}", ""]
    lines += [f"real time, 1280x720 video replayed at {TARGET_FPS:g} fps to the scanner (newest frame decoded):",
              f"  frames captured {live['frames']} in {live['seconds']:.1f} s = {live['capture_fps']:.1f} fps; "
              f"decoded {live['decoded']} ({live['decoded_fps']:.1f} fps); skipped {live['skipped']}; "
              f"codes read {live['reads']}",
              f"  capture to decoded: median {live['latency_median_ms']:.1f} ms, p95 {live['latency_p95_ms']:.1f} ms",
              f"target: keeps {TARGET_FPS:g} fps at 1280x720: {'MET' if live['kept_30fps'] else 'NOT MET'}", "",
              f"machine {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
              f"OpenCV {__import__('cv2').__version__}, numpy {np.__version__}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-family", type=int, default=24, help="frames per family and size (default 24)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the real-time replay (default 10)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = read_rates(args.per_family, args.seed)
    live = realtime(args.seconds, args.seed)
    if args.json:
        print(json.dumps({"families": rows, "realtime": live}, indent=2))
    else:
        print(describe(rows, live, args.per_family))
    return 0


if __name__ == "__main__":
    sys.exit(main())
