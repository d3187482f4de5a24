"""QR codes as the Kit shows them: 300×300 PNG, high error correction, a logo in the centre."""

from __future__ import annotations

import io

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


def qr_png(payload: str, *, with_logo: bool = True) -> bytes:
    """A 300×300 PNG of `payload`; the centred logo covers less than H-level correction repairs."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=4, box_size=10)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color=NAVY, back_color="white").convert("RGB")
    image = image.resize((SIZE_PX, SIZE_PX), Image.Resampling.NEAREST)
    if with_logo:
        side = SIZE_PX // 5
        image.paste(_logo(side), ((SIZE_PX - side) // 2, (SIZE_PX - side) // 2))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
