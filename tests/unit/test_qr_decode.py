"""Reading codes from pictures (`adapters.qr.decode_image`) and the beneficiary's Code 128 (Kit §5.4)."""

import io

import pytest
from PIL import Image, ImageOps

from sandbox.adapters.qr import (
    MAX_IMAGE_BYTES,
    UnreadableImage,
    code128_png,
    code128_svg,
    decode_image,
    qr_png,
)

PAYMENT_URL = "http://127.0.0.1:8421/acquisition/api/public/v1/pre-transactions/gzbr3yq2g1/qr-code"


def encoded(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def picture(data):
    return Image.open(io.BytesIO(data))


def test_the_kit_s_payment_qr_code_with_its_coral_logo_is_read():
    assert decode_image(qr_png(PAYMENT_URL)) == [PAYMENT_URL]


@pytest.mark.parametrize("host", ["http://127.0.0.1:8421", "http://localhost:5000", "https://cvco.example.org",
                                  "http://10.20.30.40:18421"])
@pytest.mark.parametrize("pre_id", ["gzbr3yq2g1", "0000000000", "zzzzzzzzzz", "a1b2c3d4e5"])
def test_every_payment_code_handed_out_reads_in_plain_greyscale_and_keeps_its_logo(host, pre_id):
    """zbar alone, no channel tricks: what any phone scanner sees. The logo (coral) stays in the middle."""
    from pyzbar.pyzbar import decode

    url = f"{host}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code"
    image = picture(qr_png(url))
    assert image.size == (300, 300)
    assert [s.data.decode() for s in decode(image.convert("L"))] == [url]
    middle = image.convert("RGB").crop((130, 130, 170, 170))
    assert (230, 76, 64) in [colour for _, colour in middle.getcolors()]


def test_a_code_without_logo_is_read():
    assert decode_image(qr_png("CVCoId=10001001576", with_logo=False)) == ["CVCoId=10001001576"]


def test_grey_colour_and_palette_images_are_read():
    qr = picture(qr_png(PAYMENT_URL))
    for mode in ("L", "RGB", "P"):
        assert decode_image(encoded(qr.convert(mode))) == [PAYMENT_URL], mode


def test_a_jpeg_photo_larger_than_the_screen_is_read():
    big = picture(qr_png(PAYMENT_URL)).resize((1800, 1800), Image.Resampling.BICUBIC)
    framed = Image.new("RGB", (2600, 2200), (235, 230, 220))
    framed.paste(big, (400, 200))
    assert decode_image(encoded(framed, "JPEG", quality=75)) == [PAYMENT_URL]


def test_a_light_code_on_a_dark_background_is_read():
    inverted = ImageOps.invert(picture(qr_png("hello", with_logo=False)).convert("L"))
    assert decode_image(encoded(inverted)) == ["hello"]


def test_a_transparent_background_reads_as_white():
    qr = picture(qr_png("transparent", with_logo=False)).convert("L")
    clear = Image.new("LA", qr.size, (0, 0))
    clear.putalpha(ImageOps.invert(qr))  # dark modules opaque, the rest transparent
    assert decode_image(encoded(clear)) == ["transparent"]


def test_an_image_without_any_code_gives_nothing():
    assert decode_image(encoded(Image.new("RGB", (400, 300), "white"))) == []
    assert decode_image(encoded(Image.new("L", (1, 1), 0))) == []


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  encoded(Image.new("RGB", (50, 50)), "JPEG")[:200]])
def test_what_is_not_an_image_is_refused_in_french(data):
    with pytest.raises(UnreadableImage, match="n'est pas une image lisible"):
        decode_image(data)


def test_a_huge_file_is_refused_unread():
    with pytest.raises(UnreadableImage, match="trop lourde"):
        decode_image(b"\x89PNG" + b"0" * MAX_IMAGE_BYTES)


def test_too_many_pixels_are_refused_before_decoding():
    huge = encoded(Image.new("1", (8000, 6000), 1))  # small file, 48 million pixels
    assert len(huge) < MAX_IMAGE_BYTES
    with pytest.raises(UnreadableImage, match="trop grande"):
        decode_image(huge)


def test_the_code_128_says_cvcoid_and_the_id():
    assert decode_image(code128_png("CVCoId=10001001576")) == ["CVCoId=10001001576"]
    svg = code128_svg("CVCoId=10001001576")
    assert svg.startswith(b"<?xml") and b"<svg" in svg
