"""The camera-free harness: synthetic frames of the sandbox's codes, their videos, and the data set on disk."""

import json

import cv2
import numpy as np
import pytest
import zxingcpp
from pyzbar.pyzbar import ZBarSymbol, decode

from customer_sim.scanner import dataset, decoders
from customer_sim.scanner.synthetic import (
    CLASSIC_FAMILIES,
    FAMILIES,
    FRAME_SIZES,
    HARD_FAMILIES,
    KINDS,
    code_image,
    render,
    samples,
    write_video,
)

IDENTIFIER = "CVCoId=12345678903"
SYMBOLS = [ZBarSymbol.QRCODE, ZBarSymbol.CODE128]  # not DataBar: zbar prints assertion noise on it


def zbar_reads(frame):
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return [symbol.data.decode("utf-8", "replace") for symbol in decode(grey, symbols=SYMBOLS)]


def zxing_reads(frame):
    return [barcode.text for barcode in zxingcpp.read_barcodes(frame)]


@pytest.fixture(scope="module")
def identifier_qr():
    return code_image(IDENTIFIER, "identifier_qr")


@pytest.fixture(scope="module")
def mixed():
    """Two frames per classic family and size: 48 frames, every kind in every family."""
    return list(samples(seed=11, per_family=2, families=CLASSIC_FAMILIES))


def test_the_same_seed_draws_the_same_frames_and_another_seed_other_ones():
    def frames(seed):
        return [s.frame for s in samples(seed=seed, per_family=2, families=("glare", "occlusion"),
                                         sizes=((640, 480),))]

    first, again, other = frames(5), frames(5), frames(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_render_depends_only_on_the_generator_it_is_given(identifier_qr):
    one = render(identifier_qr, "moire", (640, 480), np.random.default_rng(9))
    two = render(identifier_qr, "moire", (640, 480), np.random.default_rng(9))
    assert np.array_equal(one, two)


def test_a_subset_of_families_gives_the_same_frames_as_the_whole_set():
    whole = {(s.family, s.payload): s.frame for s in samples(seed=2, per_family=1, sizes=((640, 480),),
                                                              families=("clean", "glare", "bayer", "two_codes"))}
    for family in ("glare", "two_codes"):
        (alone,) = samples(seed=2, per_family=1, families=(family,), sizes=((640, 480),))
        assert np.array_equal(whole[family, alone.payload], alone.frame)


def test_the_hard_families_follow_the_classic_ones_so_a_seed_keeps_its_classic_frames():
    assert FAMILIES == CLASSIC_FAMILIES + HARD_FAMILIES and len(CLASSIC_FAMILIES) == 12


def test_a_two_codes_frame_holds_two_different_codes_and_the_scanner_reads_both():
    for sample in samples(seed=0, per_family=2, families=("two_codes",), sizes=((1280, 720),)):
        assert len(set(sample.payloads)) == 2 and sample.payloads[0] == sample.payload
        found = {symbol.text for symbol in decoders.scanner_decoder().decode(decoders.to_grey(sample.frame))}
        assert set(sample.payloads) <= found, sample.kind


def test_a_code_128_at_any_roll_is_beyond_zxing_alone_and_the_scanner_straightens_it():
    """Every third frame is a Code 128: seed 0's first at any roll lies 30° off an axis, its third 40°."""
    frames = [s for s in samples(seed=0, per_family=9, families=("any_roll",), sizes=((1280, 720),))
              if s.kind == "identifier_code128"]
    zxing, chain = decoders.ZXing(), decoders.scanner_decoder()
    for sample in (frames[0], frames[2]):
        assert sample.payload not in {x.text for x in zxing.decode(decoders.to_grey(sample.frame))}
        [symbol] = chain.decode(decoders.to_grey(sample.frame))
        assert (symbol.text, symbol.decoder) == (sample.payload, "zxing-cpp+straighten")
