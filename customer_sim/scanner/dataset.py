"""A data set of synthetic camera frames on disk, for benchmarking the scanner's decoders offline.

`python -m customer_sim.scanner.dataset OUT_DIR [--seed N] [--per-family N] [--fps F] [--force]
[--families clean,glare] [--sizes 640x480,1280x720]` writes

    OUT_DIR/frames/{W}x{H}/{family}/{index:03d}.png   every frame, losslessly
    OUT_DIR/video-{W}x{H}.mkv                         the frames of one size in manifest order (FFV1, lossless)
    OUT_DIR/manifest.json                             what each frame shows, and where it is in its video
                                                      ("also": the second code of a two_codes frame)

The same seed writes the same frames, byte for byte.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from customer_sim.scanner.synthetic import FAMILIES, FRAME_SIZES, Sample, samples, write_video

VIDEO_SUFFIX = ".mkv"
MANIFEST = "manifest.json"
FRAMES_DIR = "frames"


def write_dataset(directory: Path, *, seed: int = 0, per_family: int = 12, fps: float = 30.0,
                  force: bool = False, families: Sequence[str] = FAMILIES,
                  sizes: Sequence[tuple[int, int]] = FRAME_SIZES) -> dict[str, Any]:
    """Writes OUT_DIR/frames/{size}/{family}/{index:03d}.png, OUT_DIR/video-{W}x{H}.mkv (every frame of that size, in manifest order), and OUT_DIR/manifest.json; returns the manifest."""
    directory = Path(directory)
    families, sizes = tuple(dict.fromkeys(families)), tuple(dict.fromkeys(sizes))  # each once: one file a frame
    draws = samples(seed=seed, per_family=per_family, families=families, sizes=sizes)  # checks its arguments
    _prepare(directory, force=force)
    frames: list[dict[str, Any]] = []
    for (width, height), group in itertools.groupby(draws, key=lambda sample: sample.size):
        video = f"video-{width}x{height}{VIDEO_SUFFIX}"
        write_video(_saved(directory, video, group, frames), directory / video, fps=fps)
    manifest = {
        "seed": seed,
        "fps": fps,
        "families": list(families),
        "sizes": [list(size) for size in sizes],
        "frames": frames,
    }
    (directory / MANIFEST).write_text(_manifest_text(manifest), encoding="utf-8")
    return manifest


def _manifest_text(manifest: dict[str, Any]) -> str:
    """The manifest as JSON, one frame a line, so it reads (and diffs) well."""
    fields = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in manifest.items() if key != "frames"]
    frames = ",\n".join(f"  {json.dumps(frame, ensure_ascii=False)}" for frame in manifest["frames"])
    return "{\n" + ",\n".join([*fields, f' "frames": [\n{frames}\n ]']) + "\n}\n"


def _prepare(directory: Path, *, force: bool) -> None:
    """Refuses to write over anything unless forced; forced, removes only what a data set consists of."""
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()):
        if not force:
            raise FileExistsError(f"{directory} is not empty: choose another directory, or overwrite with --force")
        shutil.rmtree(directory / FRAMES_DIR, ignore_errors=True)
        for old in [directory / MANIFEST, *directory.glob(f"video-*{VIDEO_SUFFIX}")]:
            old.unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)


def _saved(directory: Path, video: str, group: Iterator[Sample], frames: list[dict[str, Any]]) -> Iterator[np.ndarray]:
    """The frames of one size, each written as PNG and entered in the manifest on its way to the video."""
    counters: dict[str, int] = {}
    for video_index, sample in enumerate(group):
        index = counters.get(sample.family, 0)
        counters[sample.family] = index + 1
        width, height = sample.size
        relative = Path(FRAMES_DIR, f"{width}x{height}", sample.family, f"{index:03d}.png")
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(directory / relative), sample.frame):
            raise OSError(f"could not write {directory / relative}")
        frames.append({"file": relative.as_posix(), "video": video, "video_index": video_index,
                       "payload": sample.payload, "kind": sample.kind, "family": sample.family,
                       "size": [width, height], **({"also": list(sample.also)} if sample.also else {})})
        yield sample.frame


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: writes a data set and prints a one-line summary."""
    parser = argparse.ArgumentParser(prog="python -m customer_sim.scanner.dataset",
                                     description="Write synthetic camera frames of the sandbox's codes, "
                                                 "as PNG files, lossless videos and a manifest.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="where to write (must be empty or new)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same frames (default 0)")
    parser.add_argument("--per-family", type=int, default=12,
                        help="frames per distortion family and frame size (default 12)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of the videos (default 30)")
    parser.add_argument("--force", action="store_true", help="overwrite a data set already in OUT_DIR")
    parser.add_argument("--families", type=_names, default=FAMILIES,
                        help=f"comma-separated distortion families (default all: {','.join(FAMILIES)})")
    parser.add_argument("--sizes", type=_sizes, default=FRAME_SIZES,
                        help="comma-separated WIDTHxHEIGHT frame sizes (default 640x480,1280x720)")
    args = parser.parse_args(argv)
    if args.seed < 0 or args.per_family < 1 or not args.fps > 0:
        parser.error("--seed must be >= 0, --per-family >= 1 and --fps > 0")
    try:
        manifest = write_dataset(args.out_dir, seed=args.seed, per_family=args.per_family, fps=args.fps,
                                 force=args.force, families=args.families, sizes=args.sizes)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # an unknown family or a bad size
        parser.error(str(error))
    videos = sorted({frame["video"] for frame in manifest["frames"]})
    print(f"{_count(len(manifest['frames']), 'frame')} ({_count(len(manifest['families']), 'family', 'families')} x "
          f"{_count(len(manifest['sizes']), 'size')} x {args.per_family}) and {_count(len(videos), 'video')} "
          f"written to {args.out_dir} (seed {args.seed})")
    return 0


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    try:
        return tuple((int(w), int(h)) for w, h in (part.lower().split("x") for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are WIDTHxHEIGHT, comma-separated, not {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
