"""Synthetic camera frames of the sandbox's codes, so the QR scanner can be tested without a camera.

A frame is what a webcam or phone would plausibly see of a payment QR code or a beneficiary's
identifier (QR or Code 128) shown on a screen or printed on paper: the code and its quiet zone on a
white card (sometimes with a caption), on a textured desk, under mild placement variation, then put
through one distortion *family* (perspective, blur, glare, JPEG, moiré…). The benchmark of decoders
compares them family by family, so each family is hard but still readable by a person.

The twelve classic families vary placement only mildly (roll within 5°); the hard families (issue
19) are what hands and cameras do: any roll for both symbologies, tilt to 50°, 1.5–2.5 px per
module, rolling shutter, a Bayer sensor's noise and demosaicing, double JPEG, a finger over the
code, two codes in one frame, a screen's pixel grid; and every hard frame goes through a camera's
pipeline (Bayer mosaic, noise, demosaicing, sharpening, a webcam's JPEG). They come after the
classic ones, so the classic frames of a seed stay what they were.

Everything random is drawn from the `np.random.Generator` passed in: one seed, the same bytes.
Blur sizes are given for a 720-pixel-high frame and scale with the frame.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sandbox.adapters.qr import code128_png, qr_png
from sandbox.domain.ids import CVCO_ID_PREFIX, new_beneficiary_number, new_object_id

CLASSIC_FAMILIES: tuple[str, ...] = ("clean", "perspective", "rotation", "scale", "blur", "motion_blur", "noise",
                                     "low_light", "glare", "jpeg", "moire", "occlusion")
HARD_FAMILIES: tuple[str, ...] = ("any_roll", "steep_tilt", "fine_modules", "rolling_shutter", "bayer", "double_jpeg",
                                  "finger", "two_codes", "screen_grid")
FAMILIES: tuple[str, ...] = CLASSIC_FAMILIES + HARD_FAMILIES
ANY_ROLL_FAMILIES = ("rotation", "any_roll")  # the code at whatever angle the hand chooses
FRAME_SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))  # (width, height)
KINDS = ("payment_qr", "identifier_qr", "identifier_code128")

PAYMENT_PATH = "/acquisition/api/public/v1/pre-transactions/{id}/qr-code"
MIN_SIDE_PX, MAX_SIDE_PX = 160, 4096
REFERENCE_HEIGHT_PX = 720  # the frame height blur sizes are given for
SUPERSAMPLE = 2  # the card is warped at twice the resolution, then averaged down as a sensor does
WIDE_ASPECT = 1.5  # a code this much wider than high is a linear barcode, sized by the frame width
FRAME_MARGIN = 0.02  # of the frame height, kept between the code and the frame's border

# Code size: the QR's side as a fraction of the frame height, a barcode's width of the frame width.
QR_SIDE = (0.22, 0.55)
QR_SIDE_SMALL, QR_SIDE_LARGE = (0.14, 0.19), (0.62, 0.85)
SMALL_QR_MIN_PX = 88
MIN_MODULE_PX, MIN_BAR_PX = 2.5, 1.8  # outside the "scale" family: a QR module, a barcode's narrowest bar
CLEAN_MIN_MODULE_PX = 3.0  # the reference frames: every decoder should read them
BARCODE_WIDTH = (0.6, 0.9)
QR_SIDE_CLOSE, BARCODE_WIDTH_CLOSE = (0.35, 0.7), (0.75, 0.97)
BARCODE_WIDTH_SMALL, BARCODE_WIDTH_LARGE = (0.48, 0.56), (0.9, 0.97)

MILD_ROLL_DEG, MILD_TILT_DEG = 5.0, 8.0
PERSPECTIVE_TILT_DEG = (15.0, 40.0)
BLUR_SIGMA_PX = (1.0, 3.5)
MOTION_LENGTH_PX = (5.0, 15.0)
NOISE_SIGMA = (8.0, 30.0)
SALT_PEPPER = (0.002, 0.015)
LOW_LIGHT_MEAN = (25.0, 60.0)
JPEG_QUALITY = (5, 25)
OCCLUDED_SHARE = (0.05, 0.20)
FINDER_MAX_COVERED = 0.35  # a finger may graze a finder pattern, never hide one
FINGER_TAPER = 0.06  # a finger widens by this much of its length on each side, towards the hand

# The hard families.
HAND_TILT_DEG = 20.0  # any_roll: the card also leans a little
STEEP_TILT_DEG, STEEP_ROLL_DEG = (30.0, 50.0), 15.0
FINE_MODULE_PX = (1.5, 2.5)
SHUTTER_SKEW_DEG = (3.0, 10.0)  # the hand moving sideways while the rows are read out, top to bottom
SHUTTER_STRETCH = 0.08  # ... or up and down: the code squashed or stretched
SHUTTER_WOBBLE_PX = (0.5, 2.5)  # hand tremor at a few cycles per frame
BAYER_READ_NOISE = (2.0, 6.0)  # the bayer family: a small sensor at a high ISO
BAYER_GAIN = (0.5, 2.5)  # levels per electron: a higher ISO, more shot noise
CAMERA_READ_NOISE, CAMERA_GAIN = (1.0, 3.0), (0.2, 0.6)  # every other hard family: a webcam in a lit room
WEBCAM_JPEG_QUALITY = (70, 90)  # the MJPEG stream every hard frame ends in
FIRST_JPEG_QUALITY, SECOND_JPEG_QUALITY = (55, 85), (20, 45)  # a webcam's stream, then a re-encoding
FINGER_SHARE = (0.10, 0.25)
GRID_PITCH_PX = (3.0, 6.0)  # a screen pixel, seen close, in frame pixels
GRID_DEPTH = (0.25, 0.5)
TWO_CODES_GAP = 0.05  # of the frame width, between the two codes' halves  # how dark the gaps between screen pixels and subpixels are

CAPTIONS = ("Scannez pour payer", "Chèque-Vacances Connect", "Présentez ce code en caisse",
            "Montant : {euros},{cents:02d} €", "Réf. {ref}")
SKIN_BGR = ((150, 180, 225), (120, 160, 210), (90, 130, 190), (60, 95, 140), (45, 65, 100))


@dataclass(frozen=True, eq=False)
class Sample:
    """One synthetic frame and what it shows."""

    frame: np.ndarray  # BGR
    payload: str
    kind: str
    family: str
    size: tuple[int, int]
    also: tuple[str, ...] = ()  # the other codes in the frame (two_codes)

    @property
    def payloads(self) -> tuple[str, ...]:
        """Every code the frame holds."""
        return (self.payload, *self.also)


def code_image(payload: str, kind: str) -> np.ndarray:
    """The code as the sandbox draws it, grey uint8 (payment_qr: qr_png with logo; identifier_qr: qr_png without; identifier_code128: code128_png)."""
    if kind == "payment_qr":
        png = qr_png(payload, with_logo=True)
    elif kind == "identifier_qr":
        png = qr_png(payload, with_logo=False)
    elif kind == "identifier_code128":
        png = code128_png(payload)
    else:
        raise ValueError(f"unknown code kind {kind!r}: expected one of {', '.join(KINDS)}")
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:  # pragma: no cover - the sandbox's own PNGs
        raise ValueError(f"the {kind} image of {payload!r} could not be decoded")
    return image


def render(code: np.ndarray, family: str, size: tuple[int, int], rng: np.random.Generator, *,
           second: np.ndarray | None = None) -> np.ndarray:
    """One camera frame (BGR uint8, shape (height, width, 3)) showing `code` (grey or BGR) on a screen/paper in a scene, distorted by `family`; two_codes shows `second` beside it (the same code again if none)."""
    width, height = _checked_size(size)
    if family not in FAMILIES:
        raise ValueError(f"unknown distortion family {family!r}: expected one of {', '.join(FAMILIES)}")
    code_bgr = _checked_code(code)
    finders = _finder_boxes(code_bgr)
    modules = max(code_bgr.shape[:2]) / _module_px(code_bgr, finders)

    scene = _background(width, height, rng)
    screen = True if family in ("moire", "screen_grid") else None
    if family == "two_codes":  # side by side: a till's screen and a customer's phone, each in half the frame
        other = _checked_code(code_bgr if second is None else second)
        other_modules = max(other.shape[:2]) / _module_px(other, _finder_boxes(other))
        half = int(width * (0.5 - TWO_CODES_GAP))  # a gap between the halves, so one card seldom hides the other code
        for shown, count, left in ((code_bgr, modules, 0), (other, other_modules, width - half)):
            card = _card(shown, rng)
            pose = _pose(family, shown.shape[1], shown.shape[0], count, half, height, rng)
            _composite(scene, card, _translation(left, 0) @ _place(card, pose, half, height, rng))
        return _camera(scene, family, rng)
    card = _card(code_bgr, rng, screen=screen)
    pose = _pose(family, code_bgr.shape[1], code_bgr.shape[0], modules, width, height, rng)
    to_frame = _place(card, pose, width, height, rng)
    screen_alpha = _composite(scene, card, to_frame)
    code_to_frame = to_frame @ _translation(card.code_x, card.code_y)
    code_quad = _transform(code_to_frame, _box_corners(0, 0, code_bgr.shape[1], code_bgr.shape[0]))

    if family == "moire":
        _moire(scene, screen_alpha, rng)
    if family == "screen_grid":
        _pixel_grid(scene, screen_alpha, to_frame, rng)
    if family == "glare":
        _glare(scene, screen_alpha, code_to_frame, code_bgr.shape, finders, rng)
    if family in ("occlusion", "finger"):
        finder_quads = [_transform(code_to_frame, _box_corners(*box)) for box in finders]
        wide = bool(code_bgr.shape[1] > WIDE_ASPECT * code_bgr.shape[0])
        if family == "finger":
            _occlude(scene, code_quad, finder_quads, wide=wide, rng=rng, hidden_share=FINGER_SHARE, finger=True)
        else:
            _occlude(scene, code_quad, finder_quads, wide=wide, rng=rng)
    return _camera(scene, family, rng)


def _camera(scene: np.ndarray, family: str, rng: np.random.Generator) -> np.ndarray:
    """What the camera makes of the scene: light, lens, motion, sensor and compression."""
    height = scene.shape[0]
    scale = height / REFERENCE_HEIGHT_PX
    _lighting(scene, rng)
    if family == "low_light":
        _darken(scene, rng)

    # Optics: every lens blurs a little; then the family's own blur.
    _gaussian_blur(scene, rng.uniform(0.3, 0.6) * scale)
    if family == "blur":
        _gaussian_blur(scene, rng.uniform(*BLUR_SIGMA_PX) * scale)
    if family == "motion_blur":
        _motion_blur(scene, rng.uniform(*MOTION_LENGTH_PX) * scale, rng.uniform(0.0, 180.0))
    if family == "rolling_shutter":
        scene = _rolling_shutter(scene, rng)

    if family in HARD_FAMILIES:  # a real camera's pipeline: a Bayer sensor, then the webcam's JPEG stream
        strong = family == "bayer"
        frame = _bayer(scene, rng, gain=BAYER_GAIN if strong else CAMERA_GAIN,
                       read_noise=BAYER_READ_NOISE if strong else CAMERA_READ_NOISE)
        if family == "double_jpeg":
            return _double_jpeg(frame, rng)
        return _jpeg(frame, int(rng.integers(WEBCAM_JPEG_QUALITY[0], WEBCAM_JPEG_QUALITY[1] + 1)))
    # Sensor: a little noise everywhere, a lot in a dark room or for the noise family.
    sigma = rng.uniform(1.0, 3.0)
    if family == "noise":
        sigma = math.hypot(sigma, rng.uniform(*NOISE_SIGMA))
    if family == "low_light":
        sigma = math.hypot(sigma, rng.uniform(3.0, 8.0))
    _add_noise(scene, sigma, rng)
    frame = np.clip(scene + 0.5, 0, 255).astype(np.uint8)
    if family == "noise":
        _salt_and_pepper(frame, rng.uniform(*SALT_PEPPER), rng)
    if family == "jpeg":
        frame = _jpeg(frame, int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))
    return frame


def samples(*, seed: int, per_family: int, families: Sequence[str] = FAMILIES,
            sizes: Sequence[tuple[int, int]] = FRAME_SIZES, base_url: str = "http://127.0.0.1:8421") -> Iterator[Sample]:
    """Deterministic from seed: per family and size, `per_family` frames cycling over the three KINDS with fresh payloads."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed}")
    if per_family < 0:
        raise ValueError(f"per_family must be non-negative, not {per_family}")
    unknown = [family for family in families if family not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown distortion families {unknown}: expected some of {', '.join(FAMILIES)}")
    checked_sizes = [_checked_size(size) for size in sizes]
    return _draw_samples(seed, per_family, tuple(families), checked_sizes, base_url.rstrip("/"))


def _draw_samples(seed: int, per_family: int, families: tuple[str, ...], sizes: list[tuple[int, int]],
                  base_url: str) -> Iterator[Sample]:
    """The frames of `samples`, drawn lazily once its arguments are checked."""
    codes: dict[tuple[str, str], np.ndarray] = {}  # a payload is shown at every size; a payment QR takes 50 ms
    for width, height in sizes:
        for family in families:
            for index in range(per_family):
                # Each frame has its own seeds, so a subset of families or sizes gives the same frames.
                ids = random.Random(f"{seed}/{family}/{index}")
                kind = KINDS[index % len(KINDS)]
                if kind == "payment_qr":
                    payload = base_url + PAYMENT_PATH.format(id=new_object_id(ids))
                else:
                    payload = CVCO_ID_PREFIX + new_beneficiary_number(ids)
                if (payload, kind) not in codes:
                    codes[payload, kind] = code_image(payload, kind)
                also: tuple[str, ...] = ()
                second = None
                if family == "two_codes":  # the next kind, with its own payload
                    other_kind = KINDS[(index + 1) % len(KINDS)]
                    other = (base_url + PAYMENT_PATH.format(id=new_object_id(ids)) if other_kind == "payment_qr"
                             else CVCO_ID_PREFIX + new_beneficiary_number(ids))
                    if (other, other_kind) not in codes:
                        codes[other, other_kind] = code_image(other, other_kind)
                    also, second = (other,), codes[other, other_kind]
                rng = np.random.default_rng([seed, FAMILIES.index(family), width, height, index])
                frame = render(codes[payload, kind], family, (width, height), rng, second=second)
                yield Sample(frame=frame, payload=payload, kind=kind, family=family, size=(width, height), also=also)


VIDEO_CODECS = ("FFV1", "MJPG")


def write_video(frames: Iterable[np.ndarray], path: Path, fps: float = 30.0, codec: str = "FFV1") -> Path:
    """Frames to a video (.mkv or .avi) that cv2.VideoCapture reads back.

    FFV1 (the default) is lossless: read back bit for bit, but about 60 ms to decode a 1280×720
    frame here, too slow to replay at 30 fps. MJPG is what webcams stream: lossy (high quality),
    2–3 ms a frame; the real-time benchmark replays that."""
    path = Path(path)
    if path.suffix.lower() not in (".mkv", ".avi"):
        raise ValueError(f"write_video writes .mkv or .avi, not {path.name!r}")
    if codec not in VIDEO_CODECS:
        raise ValueError(f"codec is one of {', '.join(VIDEO_CODECS)}, not {codec!r}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps}")
    writer: cv2.VideoWriter | None = None
    shape: tuple[int, ...] = ()
    try:
        for frame in frames:
            if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
                raise ValueError(f"frames must be uint8 grey or BGR images, not {frame.dtype} {frame.shape}")
            bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame
            if writer is None:
                shape = bgr.shape
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), float(fps),
                                         (shape[1], shape[0]))
                if not writer.isOpened():
                    raise OSError(f"OpenCV could not open an {codec} video writer for {path} "
                                  "(is this OpenCV built with FFmpeg?)")
            elif bgr.shape != shape:
                raise ValueError(f"every frame of a video has one size: {bgr.shape} after {shape}")
            writer.write(bgr)
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError(f"no frames to write to {path}")
    return path


# --- checks --------------------------------------------------------------------------------------

def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = size
    except (TypeError, ValueError):
        raise ValueError(f"a frame size is (width, height), not {size!r}") from None
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                or not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"a frame size is two integers between {MIN_SIDE_PX} and {MAX_SIDE_PX} pixels "
                             f"(width, height), not {size!r}")
    return int(width), int(height)


def _checked_code(code: np.ndarray) -> np.ndarray:
    if not isinstance(code, np.ndarray) or code.dtype != np.uint8:
        raise ValueError("the code must be a uint8 image (grey or BGR)")
    if code.ndim == 2:
        return cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    if code.ndim == 3 and code.shape[2] == 3:
        return code
    raise ValueError(f"the code must be a grey (h, w) or BGR (h, w, 3) image, not shape {code.shape}")


def _finder_boxes(code: np.ndarray) -> list[tuple[float, float, float, float]]:
    """The three finder patterns of a QR code (x0, y0, x1, y1 in code pixels), none for a barcode."""
    height, width = code.shape[:2]
    if width > WIDE_ASPECT * height or height > WIDE_ASPECT * width:
        return []
    dark = cv2.cvtColor(code, cv2.COLOR_BGR2GRAY) < 128
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    if rows.size == 0:
        return []
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    run = np.flatnonzero(~dark[top, left:])  # the finder's top edge is its side, seven modules dark
    side = float(run[0]) if run.size else float(right - left)
    return [(left, top, left + side, top + side), (right - side, top, right, top + side),
            (left, bottom - side, left + side, bottom)]


def _module_px(code: np.ndarray, finders: list[tuple[float, float, float, float]]) -> float:
    """A QR module (a finder pattern is seven wide) or a barcode's narrowest bar, in code pixels."""
    if finders:
        return (finders[0][2] - finders[0][0]) / 7
    grey = cv2.cvtColor(code, cv2.COLOR_BGR2GRAY)
    row = grey[grey.shape[0] // 3] < 128  # through the bars, above the human-readable text
    edges = np.flatnonzero(np.diff(row.astype(np.int8)))
    runs = np.diff(edges)
    if runs.size == 0:
        return float(max(code.shape[:2]))
    if (runs.size - 7) % 6 == 0:  # Code 128: symbols of 3 bars and 3 spaces over 11 modules, a stop of 7 over 13
        return float(runs.sum()) / ((runs.size - 7) // 6 * 11 + 13)
    return float(runs[runs < 1.5 * runs.min()].mean())


# --- the scene -----------------------------------------------------------------------------------

def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A desk out of focus: a lit gradient, objects (rectangles) and low-frequency blotches."""
    small_w, small_h = width // 2, height // 2  # out of focus anyway: drawn at half size, then enlarged
    angle = rng.uniform(0, 2 * math.pi)
    ramp = np.arange(small_w, dtype=np.float32)[None, :] * math.cos(angle) \
        + np.arange(small_h, dtype=np.float32)[:, None] * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1.0)
    first, second = _desk_colour(rng), _desk_colour(rng)
    scene = (first + (second - first) * ramp[..., None]).astype(np.float32)
    for _ in range(int(rng.integers(3, 9))):
        centre = rng.uniform(0, 1, 2) * (small_w, small_h)
        half = rng.uniform(0.05, 0.3, 2) * (small_w, small_h)
        corners = _rotated_rectangle(centre, half, rng.uniform(0, math.pi))
        x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int) - 1, 0, (small_w, small_h))
        x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 2, 0, (small_w, small_h))
        colour, opacity = _desk_colour(rng).astype(np.float32), rng.uniform(0.5, 1.0)
        if x1 <= x0 or y1 <= y0:
            continue
        shape = np.zeros((y1 - y0, x1 - x0), np.uint8)  # 8-bit: OpenCV anti-aliases only those
        cv2.fillConvexPoly(shape, ((corners - (x0, y0)) * 16).round().astype(np.int32), 255, cv2.LINE_AA, 4)
        region = scene[y0:y1, x0:x1]
        region += (colour - region) * (shape.astype(np.float32)[..., None] * (opacity / 255))
    blotches = rng.standard_normal((small_h // 20 + 2, small_w // 20 + 2)).astype(np.float32)
    scene += cv2.resize(blotches, (small_w, small_h), interpolation=cv2.INTER_CUBIC)[..., None] * rng.uniform(6, 20)
    scene = cv2.GaussianBlur(scene, (0, 0), rng.uniform(0.4, 1.2))
    return cv2.resize(scene, (width, height), interpolation=cv2.INTER_LINEAR)


def _desk_colour(rng: np.random.Generator) -> np.ndarray:
    """A muted colour, as desks, walls, keyboards and papers are: a grey with a little hue."""
    return rng.uniform(35, 215) + rng.uniform(-30, 30, 3)


@dataclass(frozen=True)
class _Card:
    """The screen or paper the code is shown on: premultiplied BGR and alpha, and where the code sits."""

    bgra: np.ndarray  # float32 (h, w, 4), colour premultiplied by alpha
    code_x: float
    code_y: float
    code_width: int
    code_height: int


def _card(code: np.ndarray, rng: np.random.Generator, *, screen: bool | None = None) -> _Card:
    """The code with a margin on a phone screen (dark bezel, rounded) or a paper slip, maybe a caption."""
    code_h, code_w = code.shape[:2]
    if screen is None:
        screen = bool(rng.random() < 0.5)
    margin = int(rng.uniform(0.04, 0.2) * max(code_w, code_h))
    caption = _caption(rng) if rng.random() < 0.5 else ""
    text_px = max(10, int(rng.uniform(0.06, 0.09) * code_w))
    caption_h = int(text_px * 1.6) if caption else 0
    caption_above = bool(rng.random() < 0.4)
    bezel = int(rng.uniform(0.03, 0.08) * max(code_w, code_h)) if screen else 0
    inner_w, inner_h = code_w + 2 * margin, code_h + 2 * margin + caption_h
    width, height = inner_w + 2 * bezel, inner_h + 2 * bezel

    if screen:  # a white screen, slightly off by its colour temperature
        white = rng.uniform(226, 252) + rng.uniform(-7, 7, 3)
    else:  # paper: warmer (BGR)
        white = np.array([rng.uniform(208, 235), rng.uniform(222, 243), rng.uniform(230, 250)])
    paper = Image.new("L", (inner_w, inner_h), 255)
    code_x, code_y = margin, margin + (caption_h if caption_above else 0)
    paper.paste(Image.fromarray(cv2.cvtColor(code, cv2.COLOR_BGR2GRAY)), (code_x, code_y))
    if caption:
        font, accents = _font(text_px)
        if not accents:  # the fallback font draws accented letters as boxes
            caption = unicodedata.normalize("NFKD", caption).encode("ascii", "ignore").decode()
        text_w = font.getbbox(caption)[2]
        if text_w > 0.92 * inner_w:  # a long caption on a narrow card: a smaller font
            font, _ = _font(max(6, int(text_px * 0.92 * inner_w / text_w)))
            text_w = font.getbbox(caption)[2]
        text_y = margin // 2 if caption_above else code_y + code_h + text_px // 4
        ImageDraw.Draw(paper).text(((inner_w - text_w) // 2, text_y), caption, fill=int(rng.integers(20, 90)),
                                   font=font)
    ink = np.asarray(paper, dtype=np.float32)[..., None] / 255.0
    if code.ndim == 3 and not np.array_equal(code[..., 0], code[..., 2]):  # a colour code keeps its colours
        colour = np.ones((inner_h, inner_w, 3), np.float32)
        colour[code_y:code_y + code_h, code_x:code_x + code_w] = code.astype(np.float32) / 255.0
        ink = ink * colour
    face = ink * white.astype(np.float32)
    if not screen:
        face += rng.standard_normal((inner_h, inner_w, 1), dtype=np.float32) * 2.0  # paper grain

    bgra = np.zeros((height, width, 4), np.float32)
    alpha = np.zeros((height, width), np.float32)
    if screen:
        radius = max(2, int(rng.uniform(0.04, 0.09) * min(width, height)))
        _rounded_rectangle(alpha, width, height, radius)
        bgra[..., :3] = rng.uniform(8, 35) + np.array([4.0, 0.0, 0.0], np.float32)  # a bluish-black bezel
    else:
        alpha[:] = 1.0
    bgra[bezel:bezel + inner_h, bezel:bezel + inner_w, :3] = face
    bgra[..., :3] *= alpha[..., None]
    bgra[..., 3] = alpha
    return _Card(bgra, float(code_x + bezel), float(code_y + bezel), code_w, code_h)


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A sans-serif font of `size` pixels, and whether it has accented letters."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:  # not installed: Pillow's own font, without accents
        return ImageFont.load_default(size=size), False


def _caption(rng: np.random.Generator) -> str:
    template = CAPTIONS[int(rng.integers(len(CAPTIONS)))]
    ref = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), 6))
    return template.format(euros=int(rng.integers(5, 400)), cents=int(rng.integers(0, 100)), ref=ref)


def _rounded_rectangle(alpha: np.ndarray, width: int, height: int, radius: int) -> None:
    cv2.rectangle(alpha, (radius, 0), (width - 1 - radius, height - 1), 1.0, -1)
    cv2.rectangle(alpha, (0, radius), (width - 1, height - 1 - radius), 1.0, -1)
    for x, y in ((radius, radius), (width - 1 - radius, radius), (radius, height - 1 - radius),
                 (width - 1 - radius, height - 1 - radius)):
        cv2.circle(alpha, (x, y), radius, 1.0, -1, cv2.LINE_AA)


@dataclass(frozen=True)
class _Pose:
    """How the card faces the camera: the code's long side in frame pixels, roll and tilts in degrees."""

    side_px: float
    roll: float
    tilt_x: float
    tilt_y: float
    focal: float  # pixels


def _pose(family: str, code_w: int, code_h: int, modules: float, width: int, height: int,
          rng: np.random.Generator) -> _Pose:
    """Size, roll and tilt for the family; `modules`: how many narrowest bars or QR modules span the code."""
    wide = code_w > WIDE_ASPECT * code_h
    if family == "scale":
        small = bool(rng.random() < 0.5)
        if wide:
            side = rng.uniform(*(BARCODE_WIDTH_SMALL if small else BARCODE_WIDTH_LARGE)) * width
        else:
            side = rng.uniform(*(QR_SIDE_SMALL if small else QR_SIDE_LARGE)) * height
            side = max(side, SMALL_QR_MIN_PX * rng.uniform(1.0, 1.1)) if small else side
    elif family in ("blur", "motion_blur"):  # held close to the camera: out of focus, and moving more
        side = rng.uniform(*BARCODE_WIDTH_CLOSE) * width if wide else rng.uniform(*QR_SIDE_CLOSE) * height
    else:
        side = rng.uniform(*BARCODE_WIDTH) * width if wide else rng.uniform(*QR_SIDE) * height
    if family == "fine_modules":  # as far as a person would hold it: 1.5–2.5 px per module or narrowest bar
        side = modules * rng.uniform(*FINE_MODULE_PX)
    elif family != "scale":  # a code a person can read from there: never much finer than the sensor resolves
        finest = MIN_BAR_PX if wide else CLEAN_MIN_MODULE_PX if family == "clean" else MIN_MODULE_PX
        side = max(side, modules * finest * rng.uniform(1.0, 1.15))
    side *= rng.uniform(0.95, 1.05)  # everyone holds the code at a slightly different distance
    if family in ANY_ROLL_FAMILIES:
        roll = rng.uniform(0, 360)
    elif family == "steep_tilt":
        roll = rng.uniform(-STEEP_ROLL_DEG, STEEP_ROLL_DEG)
    else:
        roll = rng.uniform(-MILD_ROLL_DEG, MILD_ROLL_DEG)
    if family == "perspective":
        tilt = rng.uniform(*PERSPECTIVE_TILT_DEG)
    elif family == "steep_tilt":
        tilt = rng.uniform(*STEEP_TILT_DEG)
    elif family == "any_roll":
        tilt = rng.uniform(0, HAND_TILT_DEG)
    else:
        tilt = rng.uniform(0, MILD_TILT_DEG)
    axis = rng.uniform(0, 2 * math.pi)
    return _Pose(side, roll, tilt * math.cos(axis), tilt * math.sin(axis), rng.uniform(0.8, 1.3) * width)


def _place(card: _Card, pose: _Pose, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """The homography from card pixels to frame pixels: the code whole in the frame, anywhere in it."""
    a, b, c = (math.radians(v) for v in (pose.tilt_x, pose.tilt_y, pose.roll))
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    rotation = ry @ rx @ rz
    card_h, card_w = card.bgra.shape[:2]
    centre = np.array([card.code_x + card.code_width / 2, card.code_y + card.code_height / 2])
    card_corners = _box_corners(0, 0, card_w, card_h)
    code_corners = _box_corners(card.code_x, card.code_y, card.code_x + card.code_width,
                                card.code_y + card.code_height)
    margin = FRAME_MARGIN * height
    scale = pose.side_px / max(card.code_width, card.code_height)
    for _ in range(40):
        code_at_origin = _project(code_corners, centre, scale, rotation, pose.focal)
        card_at_origin = _project(card_corners, centre, scale, rotation, pose.focal)
        low, high = code_at_origin.min(axis=0), code_at_origin.max(axis=0)
        room = np.array([width, height]) - 2 * margin - (high - low)
        if np.all(room >= 0) and np.all(np.isfinite(card_at_origin)):
            break
        scale *= 0.92
    offset = margin - low + rng.uniform(0, 1, 2) * np.maximum(room, 0)
    return np.asarray(cv2.getPerspectiveTransform(card_corners.astype(np.float32),
                                                  (card_at_origin + offset).astype(np.float32)), np.float64)


def _project(points: np.ndarray, centre: np.ndarray, scale: float, rotation: np.ndarray,
             focal: float) -> np.ndarray:
    """Card points seen by a pinhole camera `focal` pixels away, the code's centre at the origin."""
    flat = np.column_stack([(points - centre) * scale, np.zeros(len(points))])
    turned = flat @ rotation.T
    depth = turned[:, 2] + focal
    if np.any(depth < 0.3 * focal):  # the card would reach behind the camera: shrink it instead
        return np.full_like(points, np.inf)
    return focal * turned[:, :2] / depth[:, None]


def _composite(scene: np.ndarray, card: _Card, to_frame: np.ndarray) -> np.ndarray:
    """Draws the card into the scene (supersampled, then averaged down); returns its alpha in the frame."""
    height, width = scene.shape[:2]
    card_h, card_w = card.bgra.shape[:2]
    quad = _transform(to_frame, _box_corners(0, 0, card_w, card_h))
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(quad.max(axis=0)).astype(int) + 1, (width, height))
    alpha = np.zeros((height, width), np.float32)
    if x1 <= x0 or y1 <= y0:
        return alpha
    # Shrink the card first when it is much bigger than it will appear, so the warp does not alias.
    source = card.bgra
    local_scale = math.sqrt(abs(np.linalg.det(to_frame[:2, :2]))) / abs(to_frame[2, 2]) * SUPERSAMPLE
    shrink = min(1.0, local_scale)
    if shrink < 0.9:
        source = cv2.resize(source, (max(2, round(card_w * shrink)), max(2, round(card_h * shrink))),
                            interpolation=cv2.INTER_AREA)
    to_canvas = (np.diag([SUPERSAMPLE, SUPERSAMPLE, 1.0]) @ _translation(-x0, -y0) @ to_frame
                 @ np.diag([card_w / source.shape[1], card_h / source.shape[0], 1.0]))
    canvas = cv2.warpPerspective(source, to_canvas, ((x1 - x0) * SUPERSAMPLE, (y1 - y0) * SUPERSAMPLE),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    patch = cv2.resize(canvas, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    region = scene[y0:y1, x0:x1]
    region *= 1.0 - patch[..., 3:]
    region += patch[..., :3]
    alpha[y0:y1, x0:x1] = patch[..., 3]
    return alpha


# --- distortions (in place on a float32 BGR scene) ------------------------------------------------

def _moire(scene: np.ndarray, screen: np.ndarray, rng: np.random.Generator) -> None:
    """Camera-on-screen interference: curved rainbow beat bands and the screen's pixel grid, aliased."""
    height, width = scene.shape[:2]
    xs, ys = np.arange(width, dtype=np.float32)[None, :], np.arange(height, dtype=np.float32)[:, None]
    period = rng.uniform(5.0, 22.0) * height / REFERENCE_HEIGHT_PX + 3.0
    angle = rng.uniform(0, math.pi)
    centre = rng.uniform(0, 1, 2) * (width, height)
    phase = 2 * math.pi / period * (xs * math.cos(angle) + ys * math.sin(angle))
    phase += 2 * math.pi * rng.uniform(-0.6, 0.6) * ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (period * width)
    warp = rng.standard_normal((height // 60 + 2, width // 60 + 2)).astype(np.float32)
    phase += cv2.resize(warp, (width, height), interpolation=cv2.INTER_CUBIC) * rng.uniform(0.5, 2.0)
    amplitude = rng.uniform(0.12, 0.28)
    spread = rng.uniform(0.5, 2.0)  # how far the colour channels drift apart: the rainbow
    bands = np.stack([np.cos(phase + spread * channel) for channel in (-1, 0, 1)], axis=-1) * amplitude
    pitch = rng.uniform(2.2, 3.4)  # the screen's pixels, close to the sensor's: they beat
    turn = rng.uniform(-0.15, 0.15)
    u, v = xs * math.cos(turn) + ys * math.sin(turn), ys * math.cos(turn) - xs * math.sin(turn)
    grid = np.cos(2 * math.pi * u / pitch) * np.cos(2 * math.pi * v / pitch) * rng.uniform(0.05, 0.15)
    scene *= 1.0 + (bands + grid[..., None]) * screen[..., None]


def _pixel_grid(scene: np.ndarray, screen: np.ndarray, to_frame: np.ndarray, rng: np.random.Generator) -> None:
    """A screen seen close: its pixels' red, green and blue stripes and the dark gaps between rows, on the card."""
    rows_on, cols_on = np.flatnonzero(screen.any(axis=1)), np.flatnonzero(screen.any(axis=0))
    if rows_on.size == 0:
        return
    y0, y1, x0, x1 = rows_on[0], rows_on[-1] + 1, cols_on[0], cols_on[-1] + 1  # only where the screen is
    local_scale = math.sqrt(abs(np.linalg.det(to_frame[:2, :2]))) / abs(to_frame[2, 2])
    pitch = rng.uniform(*GRID_PITCH_PX) / max(local_scale, 1e-6)  # a screen pixel, in card pixels
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    card = cv2.perspectiveTransform(np.stack([xs, ys], axis=-1).reshape(-1, 1, 2),
                                    np.linalg.inv(to_frame)).reshape(y1 - y0, x1 - x0, 2)
    u, v = card[..., 0] / pitch, card[..., 1] / pitch
    depth = rng.uniform(*GRID_DEPTH)
    rows = 1.0 - depth * (0.5 + 0.5 * np.cos(2 * math.pi * v)) ** 4  # thin dark lines between pixel rows
    order = (2, 1, 0)  # BGR planes of the red, green and blue subpixels, left to right
    stripes = np.stack([1.0 - depth * (0.5 - 0.5 * np.cos(2 * math.pi * (u - order.index(c) / 3))) for c in range(3)],
                       axis=-1)
    factor = stripes * rows[..., None]
    # a brighter backlight makes up for the gaps
    scene[y0:y1, x0:x1] *= 1.0 + (factor * 1.4 - 1.0) * screen[y0:y1, x0:x1, None]


def _rolling_shutter(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A rolling shutter reads rows one after another: a hand moving meanwhile skews, stretches and wobbles the code."""
    height, width = scene.shape[:2]
    skew = math.tan(math.radians(rng.uniform(*SHUTTER_SKEW_DEG))) * rng.choice((-1.0, 1.0))
    stretch = rng.uniform(-SHUTTER_STRETCH, SHUTTER_STRETCH)
    wobble, cycles, phase = rng.uniform(*SHUTTER_WOBBLE_PX), rng.uniform(1.0, 4.0), rng.uniform(0, 2 * math.pi)
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    centred = ys - height / 2
    shift = skew * centred + wobble * np.sin(2 * math.pi * cycles * ys / height + phase)
    map_x = np.broadcast_to(xs + shift, (height, width)).astype(np.float32)
    map_y = np.broadcast_to(height / 2 + centred * (1 + stretch), (height, width)).astype(np.float32)
    return cv2.remap(scene, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _bayer(scene: np.ndarray, rng: np.random.Generator, *, gain: tuple[float, float],
           read_noise: tuple[float, float]) -> np.ndarray:
    """A colour sensor: one colour per pixel (RGGB), shot and read noise there, then demosaiced and sharpened."""
    light = np.clip(scene, 0, 255)
    mosaic = np.empty(light.shape[:2], np.float32)
    mosaic[0::2, 0::2] = light[0::2, 0::2, 2]  # red
    mosaic[0::2, 1::2] = light[0::2, 1::2, 1]  # green
    mosaic[1::2, 0::2] = light[1::2, 0::2, 1]  # green
    mosaic[1::2, 1::2] = light[1::2, 1::2, 0]  # blue
    shot = np.sqrt(mosaic * rng.uniform(*gain)) * rng.standard_normal(mosaic.shape, dtype=np.float32)
    read = rng.uniform(*read_noise) * rng.standard_normal(mosaic.shape, dtype=np.float32)
    raw = np.clip(mosaic + shot + read + 0.5, 0, 255).astype(np.uint8)
    frame = cv2.cvtColor(raw, cv2.COLOR_BayerBG2BGR)  # OpenCV names the pattern from the second row
    soft = cv2.GaussianBlur(frame, (0, 0), 1.0)
    return cv2.addWeighted(frame, 1.6, soft, -0.6, 0)  # the camera's own sharpening, which lifts the noise too


def _double_jpeg(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A webcam's JPEG, then a second, harsher one on a shifted 8×8 grid (a call's or a chat's re-encoding)."""
    first = _jpeg(frame, int(rng.integers(FIRST_JPEG_QUALITY[0], FIRST_JPEG_QUALITY[1] + 1)))
    dx, dy = (int(v) for v in rng.integers(1, 8, 2))
    shifted = cv2.copyMakeBorder(first, dy, 0, dx, 0, cv2.BORDER_REPLICATE)
    second = _jpeg(shifted, int(rng.integers(SECOND_JPEG_QUALITY[0], SECOND_JPEG_QUALITY[1] + 1)))
    return np.ascontiguousarray(second[dy:, dx:])


def _glare(scene: np.ndarray, card_alpha: np.ndarray, code_to_frame: np.ndarray, code_shape: tuple[int, ...],
           finders: list[tuple[float, float, float, float]], rng: np.random.Generator) -> None:
    """A lamp reflected on the screen or glossy paper: an elliptical highlight that saturates part of the code.

    The reflection stays on the card's surface; the light the lens scatters around it does not."""
    height, width = scene.shape[:2]
    code_h, code_w = code_shape[:2]
    quad = _transform(code_to_frame, _box_corners(0, 0, code_w, code_h))
    side = math.sqrt(abs(cv2.contourArea(quad.astype(np.float32))))
    spot = rng.uniform(0.1, 0.9, 2) * (code_w, code_h)
    if any(x0 <= spot[0] <= x1 and y0 <= spot[1] <= y1 for x0, y0, x1, y1 in finders):
        spot = rng.uniform(0.1, 0.9, 2) * (code_w, code_h)  # a second lamp: finder patterns are hit less often
    centre = _transform(code_to_frame, spot[None, :])[0]
    major = rng.uniform(0.1, 0.26) * side
    minor = major * rng.uniform(0.35, 0.85)
    angle = rng.uniform(0, math.pi)
    xs, ys = np.arange(width, dtype=np.float32)[None, :], np.arange(height, dtype=np.float32)[:, None]
    dx, dy = xs - centre[0], ys - centre[1]
    along = (dx * math.cos(angle) + dy * math.sin(angle)) / major
    across = (-dx * math.sin(angle) + dy * math.cos(angle)) / minor
    r2 = along ** 2 + across ** 2
    core = np.exp(-0.5 * r2 ** 2) * rng.uniform(200, 320)  # flat-topped: a burnt-out spot
    halo = np.exp(-r2 / (2 * 2.5 ** 2)) * rng.uniform(15, 50)  # light scattered around it
    tint = rng.uniform(0.92, 1.0, 3).astype(np.float32)
    scene += (core * card_alpha + halo)[..., None] * tint


def _occlude(scene: np.ndarray, code_quad: np.ndarray, finder_quads: list[np.ndarray], *, wide: bool,
             rng: np.random.Generator, hidden_share: tuple[float, float] = OCCLUDED_SHARE,
             finger: bool | None = None) -> None:
    """A finger or an object coming over one edge of the code, hiding 5–20 % of it (`hidden_share`) but no finder pattern."""
    height, width = scene.shape[:2]
    code_mask = _polygon_mask(code_quad, width, height)
    code_area = max(float(code_mask.sum()), 1.0)
    finder_masks = [_polygon_mask(quad, width, height) for quad in finder_quads]
    from_unit = cv2.getPerspectiveTransform(_box_corners(0, 0, 1, 1).astype(np.float32),
                                            code_quad.astype(np.float32)).astype(np.float64)
    side = math.sqrt(code_area)
    target = rng.uniform(*hidden_share)
    finger = bool(rng.random() < 0.7) if finger is None else finger
    mask = np.zeros((height, width), np.float32)
    for _ in range(12):
        # Where it comes in (unit code coordinates) and which way: a barcode from above or below, so
        # some scan lines stay whole; a QR code between its finder patterns or at the corner without one.
        edge = int(rng.integers(2)) * 2 if wide else int(rng.integers(4))
        along = rng.uniform(0.1, 0.9) if wide else rng.uniform(*((0.3, 0.7) if edge in (0, 3) else (0.3, 0.95)))
        entry, inward = [((along, 0.0), (0.0, 1.0)), ((1.0, along), (-1.0, 0.0)),
                         ((along, 1.0), (0.0, -1.0)), ((0.0, along), (1.0, 0.0))][edge]
        turn = rng.uniform(-0.45, 0.45)
        way = np.array([inward[0] * math.cos(turn) - inward[1] * math.sin(turn),
                        inward[0] * math.sin(turn) + inward[1] * math.cos(turn)])
        thickness = side * (rng.uniform(0.24, 0.38) if finger else rng.uniform(0.25, 0.5))
        # It comes from beyond the frame's edge (a hand), straight along its way in at the code's edge.
        start, ahead = _transform(from_unit, np.array([entry, np.array(entry) + 0.1 * way]))
        tail = start - (ahead - start) / max(float(np.hypot(*(ahead - start))), 1e-6) * 2 * (width + height)
        low, high = 0.0, 1.2
        for _ in range(14):  # how deep it reaches in, for the share of the code it hides
            depth = (low + high) / 2
            tip = _transform(from_unit, (np.array(entry) + depth * way)[None, :])[0]
            _draw_occluder(mask, tip, tail, thickness, finger)
            if float((mask * code_mask).sum()) / code_area < target:
                low = depth
            else:
                high = depth
        share = float((mask * code_mask).sum()) / code_area
        hidden = max((float((mask * finder).sum()) / max(float(finder.sum()), 1.0) for finder in finder_masks),
                     default=0.0)
        if hidden <= FINDER_MAX_COVERED and abs(share - target) < 0.03:
            break
    else:
        return  # no placement spares the finder patterns (not seen in practice): the code stays whole
    scale = height / REFERENCE_HEIGHT_PX
    shift = tuple(int(v) for v in (rng.uniform(-0.06, 0.06, 2) * side).round())
    shadow = cv2.GaussianBlur(np.roll(mask, shift, axis=(1, 0)), (0, 0), 0.04 * side + 1)
    scene *= 1.0 - rng.uniform(0.2, 0.45) * shadow[..., None]
    if finger:
        skin = np.array(SKIN_BGR[int(rng.integers(len(SKIN_BGR)))], np.float32) * rng.uniform(0.85, 1.1)
        # Rounded: lit along its ridge, darker at the sides; a paler nail near the tip.
        ridge = cv2.GaussianBlur(mask, (0, 0), 0.15 * thickness)
        paint = skin * (0.6 + 0.45 * ridge[..., None])
        nail_shape = np.zeros((height, width), np.float32)
        heading = (tail - tip) / max(float(np.hypot(*(tail - tip))), 1e-6)
        centre = tip + heading * 0.38 * thickness
        cv2.ellipse(nail_shape, tuple(int(v) for v in centre.round()), (int(0.3 * thickness), int(0.24 * thickness)),
                    math.degrees(math.atan2(heading[1], heading[0])), 0, 360, 1.0, -1, cv2.LINE_AA)
        nail = cv2.GaussianBlur(nail_shape * mask, (0, 0), 1.0)[..., None]
        paint = paint * (1 - 0.5 * nail) + np.array([200, 205, 235], np.float32) * 0.5 * nail
    else:
        paint = np.broadcast_to(rng.uniform(0, 200, 3).astype(np.float32), scene.shape)
    soft = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.6, 2.0) * scale)[..., None]  # nearer: out of focus
    scene *= 1.0 - soft
    scene += paint * soft


def _draw_occluder(mask: np.ndarray, tip: np.ndarray, tail: np.ndarray, thickness: float, finger: bool) -> None:
    """A finger (round-tipped, widening towards the hand) or a straight-edged object, from `tail` to `tip`."""
    mask[:] = 0
    length = max(float(np.hypot(*(tail - tip))), 1e-6)
    normal = np.array([tail[1] - tip[1], tip[0] - tail[0]]) / length
    far = thickness / 2 + (FINGER_TAPER * length if finger else 0.0)
    corners = np.array([tail + normal * far, tip + normal * thickness / 2, tip - normal * thickness / 2,
                        tail - normal * far])
    cv2.fillConvexPoly(mask, (corners * 16).round().astype(np.int32), 1.0, cv2.LINE_8, 4)
    if finger:
        centre = tuple(int(v) for v in (tip * 16).round())
        cv2.circle(mask, centre, int(thickness / 2 * 16), 1.0, -1, cv2.LINE_8, 4)


def _polygon_mask(quad: np.ndarray, width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    cv2.fillConvexPoly(mask, quad.round().astype(np.int32), 1.0)
    return mask


def _lighting(scene: np.ndarray, rng: np.random.Generator) -> None:
    """Uneven light, lens vignetting and the camera's white balance, on every frame."""
    height, width = scene.shape[:2]
    coarse_w, coarse_h = width // 16 + 2, height // 16 + 2  # smooth: computed coarse, then enlarged
    rx = np.linspace(-1, 1, coarse_w, dtype=np.float32)[None, :]
    ry = np.linspace(-1, 1, coarse_h, dtype=np.float32)[:, None]
    angle = rng.uniform(0, 2 * math.pi)
    light = 1.0 - rng.uniform(0, 0.25) * (rx ** 2 + ry ** 2) / 2 \
        + rng.uniform(0, 0.12) * (rx * math.cos(angle) + ry * math.sin(angle))
    balanced = light[..., None] * rng.uniform(0.93, 1.05, 3).astype(np.float32)
    scene *= cv2.resize(balanced, (width, height), interpolation=cv2.INTER_LINEAR)


def _darken(scene: np.ndarray, rng: np.random.Generator) -> None:
    """A dark room: the shadows crushed (gamma) and the mean brought down to 25–60."""
    np.clip(scene, 0, 255, out=scene)
    scene[:] = 255.0 * (scene / 255.0) ** rng.uniform(1.1, 1.6)
    scene *= rng.uniform(*LOW_LIGHT_MEAN) / max(float(scene.mean()), 1.0)


def _gaussian_blur(scene: np.ndarray, sigma: float) -> None:
    if sigma > 0.05:
        scene[:] = cv2.GaussianBlur(scene, (0, 0), sigma)


def _motion_blur(scene: np.ndarray, length: float, angle_deg: float) -> None:
    """The camera moving while the shutter is open: a straight line kernel, anti-aliased."""
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    half = (length - 1) / 2
    dx, dy = half * math.cos(math.radians(angle_deg)), half * math.sin(math.radians(angle_deg))
    shift = 4  # sub-pixel end points, in 1/16 pixel
    centre = (size - 1) / 2
    start = (round((centre - dx) * 16), round((centre - dy) * 16))
    end = (round((centre + dx) * 16), round((centre + dy) * 16))
    cv2.line(kernel, start, end, 1.0, 1, cv2.LINE_AA, shift)
    kernel /= max(float(kernel.sum()), 1e-6)
    scene[:] = cv2.filter2D(scene, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _add_noise(scene: np.ndarray, sigma: float, rng: np.random.Generator) -> None:
    """Sensor noise: grain in the brightness, and coarser colour speckle (demosaicing spreads it)."""
    height, width = scene.shape[:2]
    grain = rng.standard_normal((height, width), dtype=np.float32) * (0.85 * sigma)
    speckle = rng.standard_normal((height // 2 + 1, width // 2 + 1, 3), dtype=np.float32) * (0.55 * sigma)
    scene += grain[..., None]
    scene += cv2.resize(speckle, (width, height), interpolation=cv2.INTER_LINEAR)


def _salt_and_pepper(frame: np.ndarray, share: float, rng: np.random.Generator) -> None:
    hit = rng.random(frame.shape[:2]) < share
    frame[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0, 255).astype(np.uint8)[:, None]


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always has a JPEG encoder
        raise RuntimeError("OpenCV could not encode JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover - it just encoded it
        raise RuntimeError("OpenCV could not decode its own JPEG")
    return np.asarray(decoded)


# --- geometry -------------------------------------------------------------------------------------

def _box_corners(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def _rotated_rectangle(centre: np.ndarray, half: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    return local @ np.array([[cos, sin], [-sin, cos]]) + centre


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _transform(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    flat = np.column_stack([points, np.ones(len(points))]) @ homography.T
    return flat[:, :2] / flat[:, 2:3]

