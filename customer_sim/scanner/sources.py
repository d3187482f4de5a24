"""Where frames come from: a webcam, a video file, numbered images, a folder of images, or synthetic renders.

`open_source(spec)` reads the `--source` syntax:

    camera:0                 the webcam at index 0 (a clean `SourceError` when none opens)
    demo.avi, clip.mp4       a video file
    shots/frame-%04d.png     a numbered image sequence (printf style), or a glob: shots/*.png
    shots/                   every image of a folder, in name order
    synthetic:family=glare,size=1280x720,frames=30,seed=1,kind=payment_qr,text=CVCoId=12345678903
    synthetic:…,image=code.png   render an existing code image instead of drawing `text`

A source is *live* when frames arrive whether or not anyone reads them (a camera); files are read
at the pace of the reader unless `paced` replays them at their frame rate, as a camera would.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .decoders import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
DEFAULT_FPS = 30.0
CAMERA_OPEN_TIMEOUT_S = 5.0


class SourceError(Exception):
    """A source that cannot be opened or read; the message says what to do."""


class FrameSource(Protocol):
    description: str
    fps: float  # the nominal frame rate (a camera's, a video's, or DEFAULT_FPS for images)
    live: bool

    def read(self) -> Image | None:
        """The next frame (BGR or grey), None at the end."""

    def close(self) -> None: ...


class _OpenCVSource:
    """Frames from a cv2.VideoCapture (a device or a file)."""

    def __init__(self, capture: cv2.VideoCapture, description: str, *, live: bool, unopened: str) -> None:
        if not capture.isOpened():
            capture.release()
            raise SourceError(unopened)
        self._capture, self.description, self.live = capture, description, live
        self.fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS

    def read(self) -> Image | None:
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        self._capture.release()


class CameraSource(_OpenCVSource):
    """A webcam through cv2.VideoCapture(index)."""

    def __init__(self, index: int, capture: Callable[[int], cv2.VideoCapture] = cv2.VideoCapture) -> None:
        super().__init__(_open_quietly(lambda: capture(index)), f"camera {index}", live=True,
                         unopened=f"no camera opens at index {index} (is one plugged in, and free? "
                                  "on Linux, check /dev/video*); use --source FILE to scan a recording")


class VideoSource(_OpenCVSource):
    """A video file, frame by frame."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise SourceError(f"no such video file: {path}")
        super().__init__(_open_quietly(lambda: cv2.VideoCapture(str(path))), f"video {path}", live=False,
                         unopened=f"cannot read {path} as a video (OpenCV opens AVI, MKV, MP4…)")


class ImageFiles:
    """Still images in order; an unreadable file is an error naming it (not a silent gap)."""

    live = False

    def __init__(self, paths: list[Path], description: str, fps: float = DEFAULT_FPS) -> None:
        if not paths:
            raise SourceError(f"no images found for {description}")
        self.description = f"{len(paths)} images ({description})"
        self.fps = fps
        self._paths = iter(paths)

    def read(self) -> Image | None:
        path = next(self._paths, None)
        if path is None:
            return None
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise SourceError(f"cannot read {path} as an image")
        return frame

    def close(self) -> None:
        self._paths = iter(())


class SyntheticSource:
    """Frames rendered on the fly: a code in a scene, under one distortion family (see synthetic.py)."""

    live = False

    def __init__(self, code: Image, *, family: str, size: tuple[int, int], frames: int, seed: int,
                 fps: float = DEFAULT_FPS) -> None:
        from . import synthetic

        if family not in synthetic.FAMILIES:
            raise SourceError(f"unknown family {family!r}; one of: {', '.join(synthetic.FAMILIES)}")
        self.description = f"synthetic {family} {size[0]}x{size[1]}, {frames} frames"
        self.fps = fps
        self._render = synthetic.render
        self._code, self._family, self._size = code, family, size
        self._left = frames
        self._rng = np.random.default_rng(seed)

    def read(self) -> Image | None:
        if self._left <= 0:
            return None
        self._left -= 1
        return self._render(self._code, self._family, self._size, self._rng)

    def close(self) -> None:
        self._left = 0


def _open_quietly(opener: Callable[[], cv2.VideoCapture]) -> cv2.VideoCapture:
    """OpenCV prints its own warnings when a device is missing; the SourceError says it better."""
    logging = cv2.utils.logging
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        return opener()
    finally:
        logging.setLogLevel(previous)


NUMBERED = re.compile(r"%0?\d*d")


def open_source(spec: str) -> FrameSource:
    """The source a `--source` value names (see the module's docstring)."""
    if spec.startswith("camera:"):
        index = spec.removeprefix("camera:")
        if not (index.isascii() and index.isdigit()) or len(index) > 4:
            raise SourceError(f"camera:{index}: the camera is named by its index, e.g. camera:0")
        return CameraSource(int(index))
    if spec.startswith("synthetic:"):
        return _synthetic(spec.removeprefix("synthetic:"))
    path = Path(spec)
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        return ImageFiles(images, f"folder {path}")
    if NUMBERED.search(spec):
        return ImageFiles(_numbered(spec), spec)
    if glob.has_magic(spec):
        return ImageFiles(sorted(Path(p) for p in glob.glob(spec)), spec)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFiles([path] if path.is_file() else [], spec)
    return VideoSource(path)


def _numbered(pattern: str) -> list[Path]:
    """`frame-%04d.png`: from the first number that exists (0 or 1), until the first gap."""
    start = next((n for n in (0, 1) if os.path.isfile(pattern % n)), None)
    if start is None:
        return []
    paths: list[Path] = []
    while os.path.isfile(pattern % (start + len(paths))):
        paths.append(Path(pattern % (start + len(paths))))
    return paths


SYNTHETIC_KEYS = ("family", "size", "frames", "seed", "kind", "image", "text", "fps")


def _synthetic(options: str) -> SyntheticSource:
    from . import synthetic

    settings: dict[str, str] = {}
    rest = options
    while rest:
        key, _, value = rest.partition("=")
        if key not in SYNTHETIC_KEYS:
            raise SourceError(f"synthetic: unknown option {key!r}; options: {', '.join(SYNTHETIC_KEYS)}")
        if key == "text":  # the text may hold commas and equals signs: it runs to the end
            settings[key], rest = value, ""
        else:
            settings[key], _, rest = value.partition(",")
    try:
        width, height = (int(n) for n in settings.get("size", "1280x720").lower().split("x"))
        frames, seed = int(settings.get("frames", "30")), int(settings.get("seed", "0"))
        fps = float(settings.get("fps", str(DEFAULT_FPS)))
    except ValueError as error:
        raise SourceError(f"synthetic: size is WIDTHxHEIGHT, frames and seed whole numbers ({error})") from error
    if "image" in settings:
        code = cv2.imread(settings["image"], cv2.IMREAD_GRAYSCALE)
        if code is None:
            raise SourceError(f"synthetic: cannot read the code image {settings['image']}")
    elif "text" in settings:
        kind = settings.get("kind", "identifier_code128" if settings["text"].lower().startswith("cvcoid=")
                            else "payment_qr")
        if kind not in synthetic.KINDS:
            raise SourceError(f"synthetic: kind is one of {', '.join(synthetic.KINDS)}")
        code = synthetic.code_image(settings["text"], kind)
    else:
        raise SourceError("synthetic: say what to show, with text=… (last) or image=FILE")
    try:
        return SyntheticSource(code, family=settings.get("family", "clean"), size=(width, height),
                               frames=frames, seed=seed, fps=fps)
    except ValueError as error:
        raise SourceError(f"synthetic: {error}") from error


# --- pacing and capture ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    image: Image
    index: int  # position in the source, counting skipped frames
    at: float  # the source's own time in seconds (index / fps), for de-duplication
    captured: float  # time.perf_counter() when it was read, for the decode latency


class Paced:
    """Replays a file source at its frame rate, as a camera would deliver it (for demos and the benchmark)."""

    live = True

    def __init__(self, source: FrameSource, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.source, self.fps, self.description = source, source.fps, f"{source.description}, at {source.fps:g} fps"
        self._clock, self._sleep = clock, sleep
        self._start: float | None = None
        self._count = 0

    def read(self) -> Image | None:
        frame = self.source.read()
        if self._start is None:
            self._start = self._clock()
        due = self._start + self._count / self.fps
        self._count += 1
        wait = due - self._clock()
        if wait > 0:
            self._sleep(wait)
        return frame

    def close(self) -> None:
        self.source.close()


class Capture:
    """Frames from a source, in order; from a live source, always the newest one.

    A live source is read in a background thread that keeps only the latest frame: a decoder
    slower than the camera skips frames (counted in `skipped`) instead of falling further and
    further behind. Other sources are read in the caller's thread, every frame."""

    def __init__(self, source: FrameSource, clock: Callable[[], float] = time.perf_counter) -> None:
        self.source, self._clock = source, clock
        self.read = 0  # frames taken from the source
        self.skipped = 0  # frames replaced by a newer one before anyone took them
        self._latest: Frame | None = None
        self._ended = False
        self._error: Exception | None = None
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Capture:
        if self.source.live:
            self._thread = threading.Thread(target=self._pump, name="scanner-capture", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.source.close()

    def frames(self):  # noqa: ANN201 - an iterator of Frame
        """Every frame of a file; the newest at each call for a live source, until the source ends."""
        while True:
            frame = self._next()
            if frame is None:
                return
            yield frame

    def _next(self) -> Frame | None:
        if self._thread is None:
            return None if self._stop.is_set() else self._take()
        with self._ready:
            while self._latest is None and not self._ended:
                self._ready.wait(timeout=0.5)
            frame, self._latest = self._latest, None
            if frame is None and self._error is not None:
                raise self._error
            return frame

    def _take(self) -> Frame | None:
        image = self.source.read()
        if image is None:
            return None
        index = self.read
        self.read += 1
        return Frame(image, index, index / self.source.fps, self._clock())

    def _pump(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self._take()
                with self._ready:
                    if frame is None:
                        break
                    if self._latest is not None:
                        self.skipped += 1
                    self._latest = frame
                    self._ready.notify()
        except Exception as error:  # noqa: BLE001 - handed to the reader, who reports it
            self._error = error
        finally:
            with self._ready:
                self._ended = True
                self._ready.notify_all()
