"""The decoders the scanner can use, alone or chained: zxing-cpp first, retries when it finds nothing valid.

Every decoder takes a greyscale frame (pyzbar reads only the first channel of a colour image, so a
BGR frame would be read as its blue plane) and returns the symbols it read with their outline in
frame pixels.

`Chain` judges each read with the scanner's own rule (a payment URL of this sandbox, or a CVCoId
with a Luhn-valid number: codes.Acceptor.classify) before it stops: a partial Code 128 read by one
decoder (`7605709`) no longer keeps the next from trying, and what several steps read in a frame
holding two codes is merged. The retries transform the frame and read it again with zxing-cpp:
`Straighten` turns it so the dominant edge direction lies on an axis (zxing-cpp reads a Code 128
only within about 10° of one), `Upscale` doubles it (codes near 2 px per module), `Equalise`
applies CLAHE (defocused or low-contrast frames). Which steps earn their place, and in what order,
is measured by bench/scanner.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

Image = np.ndarray  # 8-bit pixels: BGR (h, w, 3), BGRA or grey (h, w)
Point = tuple[int, int]

STRAIGHTEN_MIN_DEG = 4.0  # closer to an axis than this, the cheap pass has already had its chance
EDGE_MIN = 40.0  # a gradient weaker than this (of 4 × 255) is texture or noise, not a code's edge
UPSCALE = 2.0
CLAHE_CLIP, CLAHE_TILES = 3.0, (8, 8)


@dataclass(frozen=True)
class Symbol:
    """One code read in a frame."""

    text: str
    symbology: str  # "QRCODE" or "CODE128"
    outline: tuple[Point, ...]  # corners in frame pixels, for the preview
    decoder: str


class Decoder(Protocol):
    name: str

    def decode(self, grey: Image) -> list[Symbol]: ...


def to_grey(frame: Image) -> Image:
    """A camera frame (BGR, BGRA or already grey) as one 8-bit channel."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _points(points: object) -> tuple[Point, ...]:
    array = np.asarray(points, dtype=float).reshape(-1, 2)
    return tuple((int(round(x)), int(round(y))) for x, y in array)


class Zbar:
    """pyzbar (the zbar library): QR codes and Code 128; light-on-dark codes read from the inverse image."""

    name = "pyzbar"

    def __init__(self, inverted: bool = True) -> None:
        from pyzbar import pyzbar  # needs Debian's libzbar0; imported here so the error says so at use

        self._decode = pyzbar.decode
        self._symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
        self.inverted = inverted

    def decode(self, grey: Image) -> list[Symbol]:
        found = self._read(grey)
        if not found and self.inverted:
            found = self._read(cv2.bitwise_not(grey))
        return found

    def _read(self, grey: Image) -> list[Symbol]:
        return [Symbol(_text(s.data), "QRCODE" if s.type == "QRCODE" else s.type, _points(s.polygon), self.name)
                for s in self._decode(grey, symbols=self._symbols)]


class OpenCVQR:
    """OpenCV's QR code detector (QR codes only), classic or ArUco-based finder detection."""

    def __init__(self, aruco: bool = False) -> None:
        self.name = "opencv-aruco" if aruco else "opencv"
        self._detector = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()

    def decode(self, grey: Image) -> list[Symbol]:
        try:
            text, points, _ = self._detector.detectAndDecode(grey)
        except cv2.error:  # some degenerate detections make OpenCV give up loudly; that is a miss
            return []
        if not text or points is None:
            return []
        return [Symbol(text, "QRCODE", _points(points), self.name)]


class ZXing:
    """zxing-cpp: QR codes and Code 128, with its own rotation by quarter turns, downscaling and inversion tries."""

    name = "zxing-cpp"

    def __init__(self) -> None:
        import zxingcpp

        self._read = zxingcpp.read_barcodes
        self._formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
        self._qr = zxingcpp.BarcodeFormat.QRCode

    def decode(self, grey: Image) -> list[Symbol]:
        found = []
        for result in self._read(grey, formats=self._formats, try_invert=True):  # type: ignore[arg-type]
            p = result.position
            outline = _points([(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                               (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)])
            found.append(Symbol(result.text, "QRCODE" if result.format == self._qr else "CODE128", outline, self.name))
        return found


# --- retries: the frame transformed, then read again -----------------------------------------------

def _mapped(symbols: list[Symbol], back: np.ndarray, name: str) -> list[Symbol]:
    """Symbols read on a transformed frame, their outline taken back to frame pixels by the affine `back`."""
    mapped = []
    for symbol in symbols:
        points = np.asarray(symbol.outline, dtype=float).reshape(-1, 2)
        frame_points = points @ back[:, :2].T + back[:, 2] if len(points) else points
        mapped.append(replace(symbol, outline=_points(frame_points), decoder=name))
    return mapped


def dominant_angle(grey: Image) -> float:
    """The direction most strong edges share, modulo 90°, in degrees in [-45, 45).

    Bars and QR modules have edges along two perpendicular directions: each gradient votes with
    four times its angle (so perpendicular edges agree), weighted by its strength squared."""
    small = grey if grey.shape[0] <= 720 else cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    strength = gx * gx + gy * gy
    strong = strength > EDGE_MIN ** 2
    if not strong.any():
        return 0.0
    x, y = gx[strong].astype(np.float64), gy[strong].astype(np.float64)
    z = (x + 1j * y) ** 4 / (x * x + y * y)  # |g|² · e^{4iθ}
    return math.degrees(np.angle(z.sum()) / 4)


class Straighten:
    """Turns the frame so its dominant edge direction lies on an axis, then reads it again."""

    def __init__(self, inner: Decoder) -> None:
        self.inner = inner
        self.name = f"{inner.name}+straighten"

    def decode(self, grey: Image) -> list[Symbol]:
        angle = dominant_angle(grey)
        if abs(angle) < STRAIGHTEN_MIN_DEG:
            return []
        height, width = grey.shape[:2]
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
        out_w, out_h = int(height * sin + width * cos), int(height * cos + width * sin)  # nothing cut off
        turn[0, 2] += out_w / 2 - width / 2
        turn[1, 2] += out_h / 2 - height / 2
        turned = cv2.warpAffine(grey, turn, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return _mapped(self.inner.decode(turned), cv2.invertAffineTransform(turn), self.name)


class Upscale:
    """The frame enlarged twice, then read again: a module near 2 px becomes 4."""

    def __init__(self, inner: Decoder, factor: float = UPSCALE) -> None:
        self.inner, self.factor = inner, factor
        self.name = f"{inner.name}+upscale"

    def decode(self, grey: Image) -> list[Symbol]:
        larger = cv2.resize(grey, None, fx=self.factor, fy=self.factor, interpolation=cv2.INTER_CUBIC)
        back = np.array([[1 / self.factor, 0, 0], [0, 1 / self.factor, 0]])
        return _mapped(self.inner.decode(larger), back, self.name)


class Equalise:
    """Contrast-limited adaptive histogram equalisation (CLAHE), then read again: defocus, dim light, haze."""

    def __init__(self, inner: Decoder) -> None:
        self.inner = inner
        self.name = f"{inner.name}+clahe"
        self._clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=CLAHE_TILES)

    def decode(self, grey: Image) -> list[Symbol]:
        return _mapped(self.inner.decode(self._clahe.apply(grey)), np.array([[1.0, 0, 0], [0, 1.0, 0]]), self.name)


# --- the chain -------------------------------------------------------------------------------------

def _always_valid(text: str) -> bool:
    return True


class Chain:
    """The cheap steps, then the retries, each read judged by `valid`, until a step reads something valid.

    A step that reads a valid code ends the chain, unless it also read something invalid (a second
    code, partly read): then the next steps try too, and every valid read is kept, once per text.
    When nothing valid was read at all, the invalid reads come back, so the operator learns why
    nothing happens (a poster's URL, another platform's code)."""

    def __init__(self, cheap: Sequence[Decoder], retries: Sequence[Decoder] = (), *,
                 valid: Callable[[str], bool] = _always_valid, name: str = "combination") -> None:
        self.cheap, self.retries = tuple(cheap), tuple(retries)
        self.valid = valid
        self.name = name

    @property
    def steps(self) -> tuple[Decoder, ...]:
        return self.cheap + self.retries

    def decode(self, grey: Image) -> list[Symbol]:
        return self.decode_with(grey, self.steps)

    def decode_with(self, grey: Image, steps: Sequence[Decoder]) -> list[Symbol]:
        """The chain's rule over `steps` only (the live scheduler runs the retries one frame at a time)."""
        good: dict[str, Symbol] = {}
        bad: dict[str, Symbol] = {}
        for step in steps:
            found = step.decode(grey)
            partial = False
            for symbol in found:
                if self.valid(symbol.text):
                    good.setdefault(symbol.text, symbol)
                else:
                    partial = True
                    bad.setdefault(symbol.text, symbol)
            if good and not partial:
                break
        return list(good.values()) if good else list(bad.values())


def _aruco() -> Decoder:
    return OpenCVQR(aruco=True)


DECODERS: dict[str, Callable[[], Decoder]] = {"pyzbar": Zbar, "zxing-cpp": ZXing, "opencv": OpenCVQR,
                                              "opencv-aruco": _aruco}


def single_decoders() -> dict[str, Decoder]:
    """Every decoder available here, by name."""
    return {name: make() for name, make in DECODERS.items()}


RETRIES: dict[str, Callable[[Decoder], Decoder]] = {"straighten": Straighten, "upscale": Upscale, "clahe": Equalise}
# zxing-cpp reads first: as many frames as pyzbar, four times faster. The retries follow, measured
# by bench/scanner.py: straightening (Code 128 beyond 10° of an axis), 2× (codes near 2 px per
# module), CLAHE (defocus, dim light); pyzbar last, for the frames only it reads.
CHEAP = ("zxing-cpp",)
RETRY_ORDER = ("straighten", "upscale", "clahe", "pyzbar")


def chain_of(cheap: Sequence[str], retries: Sequence[str] = (), *, valid: Callable[[str], bool] = _always_valid,
             name: str | None = None) -> Chain:
    """The decoders named, then the retries named (a retry's name, or a decoder's), in that order.

    Only the decoders named are made (pyzbar loads libzbar, OpenCV's detectors their models)."""
    made: dict[str, Decoder] = {}

    def decoder(wanted: str) -> Decoder:
        if wanted not in made:
            made[wanted] = DECODERS[wanted]()
        return made[wanted]

    steps = [RETRIES[retry](decoder("zxing-cpp")) if retry in RETRIES else decoder(retry) for retry in retries]
    return Chain([decoder(n) for n in cheap], steps, valid=valid, name=name or "→".join([*cheap, *retries]))


def scanner_decoder(valid: Callable[[str], bool] = _always_valid) -> Chain:
    """The scanner's combination, judging reads by `valid` (codes.Acceptor.classify, in the scanner)."""
    return chain_of(CHEAP, RETRY_ORDER, valid=valid, name="combination")


class Spread:
    """The chain at a camera's pace: every frame gets the cheap steps, a missed one also one retry, in turn.

    A retry that reads is tried first again on the next miss (the code is likely still held at that
    angle, size or light); one that misses hands over to the next. `retries_run` counts them by name."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.name = chain.name
        self._next = 0
        self.retries_run: dict[str, int] = {step.name: 0 for step in chain.retries}

    def decode(self, grey: Image) -> list[Symbol]:
        found = self.chain.decode_with(grey, self.chain.cheap)
        if any(self.chain.valid(symbol.text) for symbol in found) or not self.chain.retries:
            return found
        retry = self.chain.retries[self._next % len(self.chain.retries)]
        self.retries_run[retry.name] += 1
        again = self.chain.decode_with(grey, (retry,))
        if any(self.chain.valid(symbol.text) for symbol in again):
            return again
        self._next += 1
        return again or found
