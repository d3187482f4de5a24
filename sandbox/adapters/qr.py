"""QR codes as the Kit shows them: 300×300 PNG, high error correction, a logo in the centre."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_H

SIZE_PX = 300
CORAL = (230, 76, 64)  # Kit §6.4.3
NAVY = (0, 63, 125)


def _logo(size: int) -> Image.Image:
    logo = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((2, 2, size - 3, size - 3), radius=size // 6, fill=CORAL)
    draw.text((size * 0.22, size * 0.28), "CV", fill="white", font_size=int(size * 0.42))
    return logo


def _render(code: qrcode.QRCode, logo_modules: int) -> Image.Image:
    """Whole pixels per module (a resized code has uneven modules, which scanners misread), centred on
    300×300; the logo sits on a white square aligned with the modules, one module of margin around it."""
    side = code.modules_count + 2 * code.border
    box = max(1, SIZE_PX // side)
    matrix = code.get_matrix()
    image = Image.new("RGB", (SIZE_PX, SIZE_PX), "white")
    draw = ImageDraw.Draw(image)
    offset = (SIZE_PX - side * box) // 2
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                x, y = offset + col * box, offset + row * box
                draw.rectangle((x, y, x + box - 1, y + box - 1), fill=NAVY)
    if logo_modules:
        start = offset + (side - logo_modules) // 2 * box
        draw.rectangle((start, start, start + logo_modules * box - 1, start + logo_modules * box - 1), fill="white")
        image.paste(_logo((logo_modules - 2) * box), (start + box, start + box))
    return image


def _readable(image: Image.Image, payload: str) -> bool:
    try:
        from pyzbar.pyzbar import decode
    except ImportError:  # no zbar on this machine: trust the size rule
        return True
    return any(s.data.decode("utf-8", "replace") == payload for s in decode(image.convert("L")))


def qr_png(payload: str, *, with_logo: bool = True) -> bytes:
    """A 300×300 PNG of `payload` with level-H correction and a centred logo of about a fifth of its width.

    The logo is made smaller until zbar reads the code in greyscale (which logo sizes it tolerates depends
    on what they cover), so every code handed out is one a phone and the sandbox's scanner can read."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=4)
    code.add_data(payload)
    code.make(fit=True)
    sizes = range(code.modules_count // 5 | 1, 4, -2) if with_logo else ()  # odd: centred on the middle module
    image = next((im for im in (_render(code, k) for k in sizes) if _readable(im, payload)), None)
    if image is None:
        image = _render(code, 0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# --- reading codes, and the beneficiary's Code 128 ------------------------------------------------

MAX_IMAGE_BYTES = 8 * 1024 * 1024  # a phone photo fits; anything bigger is refused unread
MAX_IMAGE_PIXELS = 40_000_000  # refused before decoding: no decompression bomb
DECODE_SIDE_PX = 2400  # larger photos are scaled down first: zbar reads a code this size, and fast


class UnreadableImage(ValueError):
    """An upload that is not an image we can read; the message is shown to people (French)."""


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, a transparent background made white (it would read as black)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image.convert("RGB")


def _views(image: Image.Image) -> Iterator[Image.Image]:
    """The greyscale images zbar is shown, best bet first (it reads one channel only)."""
    from PIL import ImageOps

    grey = image.convert("L")
    yield grey
    # Codes with a coloured logo in the middle (as on ANCV's posters): greyscale turns the logo into a
    # dark blot zbar may trip over; in the red channel a coral logo is as light as the background.
    yield image.getchannel("R")
    yield _dark_only(grey)  # the same logo printed in grey: keep only the darkest ink
    yield ImageOps.invert(grey)  # a light code on a dark background


def _dark_only(grey: Image.Image) -> Image.Image:
    """Black where the ink is among the darkest, white elsewhere (2nd/98th percentiles, not the extremes)."""
    counts, total = grey.histogram(), grey.width * grey.height
    seen, dark, light = 0, 0, 255
    for level, count in enumerate(counts):
        if seen < total * 0.02 <= seen + count:
            dark = level
        if seen < total * 0.98 <= seen + count:
            light = level
        seen += count
    cut = dark + (light - dark) * 3 // 10
    return grey.point(lambda value: 255 if value > cut else 0)


def decode_image(data: bytes) -> list[str]:
    """Every QR code or barcode text in an image (PNG, JPEG, GIF, WebP…), [] when there is none."""
    from PIL import ImageOps, UnidentifiedImageError

    try:
        from pyzbar.pyzbar import decode
    except ImportError as error:  # the zbar library (Debian's libzbar0) is missing on this machine
        # Whoever runs the server reads this page too: name what to install (issue 15, item 5).
        raise UnreadableImage("La lecture des images n'est pas disponible sur ce serveur (il y manque la "
                              "bibliothèque zbar : apt-get install libzbar0) : "
                              "collez l'adresse du QR code.") from error
    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableImage(f"Cette image est trop lourde (au plus {MAX_IMAGE_BYTES // (1024 * 1024)} Mo).")
    try:
        opened = Image.open(io.BytesIO(data))
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise UnreadableImage("Cette image est trop grande pour être lue.")
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((DECODE_SIDE_PX, DECODE_SIDE_PX))
        image = _on_white(image)
    except UnreadableImage:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage("Ce fichier n'est pas une image lisible (PNG ou JPEG attendu).") from error
    texts: list[str] = []
    for view in _views(image):
        for symbol in decode(view):
            text = symbol.data.decode("utf-8", errors="replace")
            if text not in texts:
                texts.append(text)
        if texts:
            break
    return texts


def _code128(text: str, writer: object) -> bytes:
    import barcode

    buffer = io.BytesIO()
    barcode.get("code128", text, writer=writer).write(buffer, options={"module_height": 15.0, "quiet_zone": 6.5})
    return buffer.getvalue()


MM_LENGTH = re.compile(r'="(\d+(?:\.\d+)?)mm"')
SVG_SIZE = re.compile(r'<svg ([^>]*)width="([\d.]+)" height="([\d.]+)"')


def code128_svg(text: str) -> bytes:
    """A Code 128 barcode of `text` as SVG (Kit §5.4.1: the beneficiary's `CVCoId=…`), scalable to any width."""
    from barcode.writer import SVGWriter

    # python-barcode writes every length in millimetres and no viewBox, so CSS could not resize it:
    # lengths become user units, and a viewBox in millimetres keeps the printed size.
    svg = MM_LENGTH.sub(r'="\1"', _code128(text, SVGWriter()).decode())
    svg = SVG_SIZE.sub(r'<svg \1width="\2mm" height="\3mm" viewBox="0 0 \2 \3"', svg, count=1)
    return svg.replace("font-size:10pt", "font-size:3.53px").encode()  # 10 pt = 3.53 mm


def code128_png(text: str) -> bytes:
    """The same barcode as PNG, for scanners that read pictures."""
    from barcode.writer import ImageWriter

    return _code128(text, ImageWriter())
