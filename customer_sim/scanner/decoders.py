"""The decoders the scanner can use, alone or chained: pyzbar first, fallbacks when it misses.

Every decoder takes a greyscale frame (pyzbar reads only the first channel of a colour image, so a
BGR frame would be read as its blue plane) and returns the symbols it read with their outline in
frame pixels. `Chain` asks each in turn and stops at the first that reads something: the cheap,
usual case costs one decoder, and a hard frame gets every chance. Which fallbacks earn their place,
and in what order, is measured by bench/scanner.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

Image = np.ndarray  # 8-bit pixels: BGR (h, w, 3), BGRA or grey (h, w)
Point = tuple[int, int]


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
    """zxing-cpp: QR codes and Code 128, with its own rotation, downscaling and inversion tries."""

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


class Chain:
    """Each decoder in turn, until one reads something."""

    def __init__(self, decoders: Sequence[Decoder], name: str = "combination") -> None:
        self.decoders = tuple(decoders)
        self.name = name

    def decode(self, grey: Image) -> list[Symbol]:
        for decoder in self.decoders:
            found = decoder.decode(grey)
            if found:
                return found
        return []


def single_decoders() -> dict[str, Decoder]:
    """Every decoder available here, by name."""
    return {decoder.name: decoder for decoder in (Zbar(), ZXing(), OpenCVQR(), OpenCVQR(aruco=True))}


def chain_of(names: Sequence[str]) -> Chain:
    """The decoders named, in that order."""
    available = single_decoders()
    return Chain([available[name] for name in names], name="→".join(names))


# pyzbar reads first; then zxing-cpp, which bench/scanner.py found reading the most frames pyzbar
# misses (noise, low light, motion blur) in a fifth of its time, and OpenCV's ArUco-based detector.
# The classic OpenCV detector is left out: it read no frame the others missed, slower than all.
SCANNER_ORDER = ("pyzbar", "zxing-cpp", "opencv-aruco")


def scanner_decoder() -> Chain:
    """The scanner's combination."""
    chain = chain_of(SCANNER_ORDER)
    chain.name = "combination"
    return chain
