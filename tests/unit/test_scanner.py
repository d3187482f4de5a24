"""The scanner's parts without a camera: what is accepted, the decoders, the scan loop, sources, capture, preview."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests
from PIL import Image

from customer_sim.scanner import codes, decoders, preview, sources
from customer_sim.scanner.codes import Acceptor, IdentifierCode, PaymentCode, Refused
from customer_sim.scanner.decoders import (
    Chain,
    Equalise,
    OpenCVQR,
    Spread,
    Straighten,
    Symbol,
    Upscale,
    Zbar,
    ZXing,
    to_grey,
)
from customer_sim.scanner.scanner import Scanner
from customer_sim.scanner.sources import Capture, Frame, SourceError
from sandbox.adapters.qr import code128_png, qr_png

SERVER = "http://127.0.0.1:8421"
KIT = SERVER + "/acquisition/api/public/v1"
PAYMENT_URL = f"{KIT}/pre-transactions/ab12cd34ef/qr-code"
CVCO_ID = "CVCoId=10000000009"  # 1000000000 + its Luhn digit


def grey_code(png: bytes) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(png)).convert("L"))


def on_frame(code: np.ndarray, size: tuple[int, int] = (640, 480), at: tuple[int, int] = (60, 80)) -> np.ndarray:
    """A BGR frame, mid-grey, with the code pasted at `at`."""
    frame = np.full((size[1], size[0], 3), 110, np.uint8)
    y, x = at
    frame[y:y + code.shape[0], x:x + code.shape[1]] = code[..., None]
    return frame


# --- what is accepted ---------------------------------------------------------------------------

def test_a_payment_url_of_this_sandbox_is_a_payment_code() -> None:
    accept = Acceptor(codes.kit_bases(SERVER), PaymentCode)
    assert accept(PAYMENT_URL) == PaymentCode(PAYMENT_URL, "ab12cd34ef")
    assert accept(PAYMENT_URL + "/ \n") == PaymentCode(PAYMENT_URL + "/", "ab12cd34ef")


def test_a_payment_url_under_the_public_url_is_accepted_when_given() -> None:
    public = "http://192.168.1.20:8421/acquisition/api/public/v1/pre-transactions/ab12cd34ef/qr-code"
    assert isinstance(Acceptor(codes.kit_bases(SERVER), PaymentCode)(public), Refused)
    assert Acceptor(codes.kit_bases(SERVER, "http://192.168.1.20:8421/"), PaymentCode)(public) == \
        PaymentCode(public, "ab12cd34ef")


@pytest.mark.parametrize(("text", "reason"), [
    ("https://api.ancv.com/acquisition/api/public/v1/pre-transactions/ab12cd34ef/qr-code", "another platform"),
    (f"{KIT}/pre-transactions/AB12/qr-code", "neither"),
    (f"{KIT}/pre-transactions/ab12cd34ef", "neither"),
    ("https://www.ancv.com/", "neither"),
    ("CVCoId=10000000008", "Luhn"),
    ("CVCoId=1000000000", "Luhn"),
    (CVCO_ID, "scan it as a merchant"),
])
def test_what_a_beneficiary_may_not_pay_is_refused_with_its_reason(text: str, reason: str) -> None:
    verdict = Acceptor(codes.kit_bases(SERVER), PaymentCode)(text)
    assert isinstance(verdict, Refused) and reason in verdict.reason


@pytest.mark.parametrize("prefix", ["CVCoId=", "cvcoid=", "CVCOID="])
def test_a_cvco_id_prefix_is_read_whatever_its_case(prefix: str) -> None:
    accept = Acceptor(codes.kit_bases(SERVER), IdentifierCode)
    assert accept(prefix + "10000000009") == IdentifierCode("10000000009")
    assert "scan it as a beneficiary" in accept(PAYMENT_URL).reason  # type: ignore[union-attr]


# --- decoders ------------------------------------------------------------------------------------

# Decoders are made inside the tests: a zxing-cpp object alive at interpreter exit makes its
# bindings (nanobind) print leak warnings.
@pytest.mark.parametrize("name", ["pyzbar", "zxing-cpp", "opencv", "opencv-aruco"])
def test_every_decoder_reads_the_payment_qr_code_on_a_frame(name: str) -> None:
    decoder = decoders.single_decoders()[name]
    frame = on_frame(grey_code(qr_png(PAYMENT_URL)))
    [symbol] = decoder.decode(to_grey(frame))
    assert (symbol.text, symbol.symbology, symbol.decoder) == (PAYMENT_URL, "QRCODE", decoder.name)
    xs = [x for x, _ in symbol.outline]
    assert len(symbol.outline) >= 4 and 60 <= min(xs) + 30 and max(xs) <= 80 + 300 + 30  # around the code


@pytest.mark.parametrize("name", ["pyzbar", "zxing-cpp"])
def test_pyzbar_and_zxing_read_the_cvco_id_code_128(name: str) -> None:
    decoder = decoders.single_decoders()[name]
    barcode = cv2.resize(grey_code(code128_png(CVCO_ID)), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    [symbol] = decoder.decode(to_grey(on_frame(barcode, at=(100, 10))))
    assert (symbol.text, symbol.symbology) == (CVCO_ID, "CODE128")


def test_opencv_reads_no_code_128_so_it_is_a_qr_fallback_only() -> None:
    barcode = grey_code(code128_png(CVCO_ID))
    assert OpenCVQR().decode(to_grey(on_frame(barcode, at=(100, 10)))) == []


def test_light_on_dark_codes_are_read_from_the_inverse_image() -> None:
    inverted = 255 - on_frame(grey_code(qr_png(CVCO_ID, with_logo=False)))
    assert Zbar(inverted=False).decode(to_grey(inverted)) == []
    assert [s.text for s in Zbar().decode(to_grey(inverted))] == [CVCO_ID]
    assert [s.text for s in ZXing().decode(to_grey(inverted))] == [CVCO_ID]


def test_colour_frames_are_read_in_grey_not_by_their_first_channel() -> None:
    """pyzbar reads channel 0 of a colour image: a code drawn in blue ink on white is invisible there."""
    code = grey_code(qr_png(PAYMENT_URL, with_logo=False))
    frame = np.full((480, 640, 3), 255, np.uint8)
    ink = code[..., None] < 128
    frame[80:380, 60:360] = np.where(ink, np.array([255, 60, 0], np.uint8), np.array([255, 255, 255], np.uint8))
    from pyzbar.pyzbar import decode

    assert decode(frame) == []  # the blue plane is white everywhere
    assert [s.text for s in Zbar().decode(to_grey(frame))] == [PAYMENT_URL]


class Fixed:
    def __init__(self, name: str, found: list[Symbol]) -> None:
        self.name, self.found, self.calls = name, found, 0

    def decode(self, grey: np.ndarray) -> list[Symbol]:
        self.calls += 1
        return self.found


def test_a_chain_stops_at_the_first_decoder_that_reads() -> None:
    hit = Symbol("x", "QRCODE", (), "second")
    first, second, third = Fixed("first", []), Fixed("second", [hit]), Fixed("third", [hit])
    assert Chain([first, second, third]).decode(np.zeros((4, 4), np.uint8)) == [hit]
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)
    assert Chain([first]).decode(np.zeros((4, 4), np.uint8)) == []


def valid(text: str) -> bool:
    """The scanner's own rule: a payment URL of this sandbox or a Luhn-valid CVCoId."""
    return not isinstance(Acceptor(codes.kit_bases(SERVER), PaymentCode).classify(text), Refused)


BLANK = np.zeros((4, 4), np.uint8)


def test_a_partial_read_by_one_decoder_does_not_keep_the_next_from_trying() -> None:
    partial = Symbol("7605709", "CODE128", (), "first")  # a Code 128 read halfway: not a CVCoId
    whole = Symbol(CVCO_ID, "CODE128", (), "second")
    first, second, third = Fixed("first", [partial]), Fixed("second", [whole]), Fixed("third", [whole])
    assert Chain([first], [second, third], valid=valid).decode(BLANK) == [whole]
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)


def test_when_nothing_valid_is_read_the_invalid_reads_come_back_for_the_operator() -> None:
    poster = Symbol("https://www.ancv.com/", "QRCODE", (), "first")
    steps = [Fixed("first", [poster]), Fixed("second", []), Fixed("third", [poster])]
    assert Chain(steps[:1], steps[1:], valid=valid).decode(BLANK) == [poster]
    assert [step.calls for step in steps] == [1, 1, 1]  # every step had its chance


def test_two_codes_read_by_two_decoders_are_merged() -> None:
    payment, identifier = Symbol(PAYMENT_URL, "QRCODE", (), "first"), Symbol(CVCO_ID, "CODE128", (), "second")
    partial = Symbol("CVCoId=1000", "CODE128", (), "first")
    first, second = Fixed("first", [payment, partial]), Fixed("second", [identifier, payment])
    assert Chain([first], [second], valid=valid).decode(BLANK) == [payment, identifier]


def test_two_codes_in_one_frame_are_both_read() -> None:
    frame = on_frame(grey_code(qr_png(PAYMENT_URL, with_logo=False)), size=(1280, 480), at=(90, 40))
    barcode = cv2.resize(grey_code(code128_png(CVCO_ID)), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    frame[100:100 + barcode.shape[0], 600:600 + barcode.shape[1]] = barcode[..., None]
    found = decoders.scanner_decoder(valid=valid).decode(to_grey(frame))
    assert sorted(symbol.text for symbol in found) == sorted([PAYMENT_URL, CVCO_ID])


# Each retry on a frame only it reads: zxing-cpp alone misses it, and so does every other retry.

def framed(code: np.ndarray, size: tuple[int, int] = (640, 480), background: int = 200) -> np.ndarray:
    """A grey frame with the code in its middle."""
    frame = np.full((size[1], size[0]), background, np.uint8)
    top, left = (size[1] - code.shape[0]) // 2, (size[0] - code.shape[1]) // 2
    frame[top:top + code.shape[0], left:left + code.shape[1]] = code
    return frame


def rotated_code128() -> np.ndarray:
    barcode = cv2.resize(grey_code(code128_png(CVCO_ID)), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    frame = framed(barcode)
    return cv2.warpAffine(frame, cv2.getRotationMatrix2D((320, 240), 30, 1.0), (640, 480), borderValue=200)


def tiny_code128() -> np.ndarray:
    return framed(cv2.resize(grey_code(code128_png(CVCO_ID)), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
                  background=255)


def faint_qr() -> np.ndarray:
    code = grey_code(qr_png(PAYMENT_URL, with_logo=False))
    faint = np.where(code < 128, 115, 128).astype(np.uint8)  # a washed-out screen, out of focus
    return cv2.GaussianBlur(framed(faint, background=128), (0, 0), 2.0)


@pytest.mark.parametrize(("frame", "text", "only"), [
    (rotated_code128, CVCO_ID, "straighten"),
    (tiny_code128, CVCO_ID, "upscale"),
    (faint_qr, PAYMENT_URL, "clahe"),
])
def test_each_retry_reads_a_frame_that_only_it_reads(frame: object, text: str, only: str) -> None:
    grey = frame()  # type: ignore[operator]
    zxing = ZXing()
    retries = {"straighten": Straighten(zxing), "upscale": Upscale(zxing), "clahe": Equalise(zxing), "pyzbar": Zbar()}
    assert zxing.decode(grey) == []
    reads = {name: [s.text for s in retry.decode(grey)] for name, retry in retries.items()}
    assert reads == {name: [text] if name == only else [] for name in retries}
    [symbol] = decoders.scanner_decoder(valid=valid).decode(grey)
    assert (symbol.text, symbol.decoder) == (text, f"zxing-cpp+{only}")


def test_a_straightened_read_is_outlined_where_the_code_is_in_the_frame() -> None:
    [symbol] = Straighten(ZXing()).decode(rotated_code128())
    xs, ys = [x for x, _ in symbol.outline], [y for _, y in symbol.outline]
    assert 60 < min(xs) and max(xs) < 580 and 40 < min(ys) and max(ys) < 440  # inside the frame, around the code
    assert max(xs) - min(xs) > 300  # the code's length, not a point


# --- the live scheduler --------------------------------------------------------------------------

def test_live_a_missed_frame_gets_one_retry_each_in_turn() -> None:
    cheap = Fixed("cheap", [])
    retries = [Fixed("a", []), Fixed("b", []), Fixed("c", [])]
    spread = Spread(Chain([cheap], retries, valid=valid))
    for _ in range(7):
        assert spread.decode(BLANK) == []
    assert cheap.calls == 7 and [r.calls for r in retries] == [3, 2, 2]
    assert spread.retries_run == {"a": 3, "b": 2, "c": 2}


def test_live_a_retry_that_reads_is_tried_first_on_the_next_miss() -> None:
    whole = Symbol(CVCO_ID, "CODE128", (), "b")
    cheap, a, b = Fixed("cheap", []), Fixed("a", []), Fixed("b", [whole])
    spread = Spread(Chain([cheap], [a, b], valid=valid))
    assert [spread.decode(BLANK) for _ in range(4)] == [[], [whole], [whole], [whole]]
    assert (a.calls, b.calls) == (1, 3)


def test_live_a_frame_the_cheap_step_reads_costs_no_retry() -> None:
    whole = Symbol(CVCO_ID, "CODE128", (), "cheap")
    retry = Fixed("retry", [])
    assert Spread(Chain([Fixed("cheap", [whole])], [retry], valid=valid)).decode(BLANK) == [whole]
    assert retry.calls == 0


# --- the scan loop -------------------------------------------------------------------------------

def frames_at(*times: float) -> list[Frame]:
    blank = np.zeros((8, 8), np.uint8)
    return [Frame(blank, index, at, time.perf_counter()) for index, at in enumerate(times)]


def test_a_code_held_in_view_is_read_once_and_again_after_it_was_gone() -> None:
    payment = Symbol(PAYMENT_URL, "QRCODE", (), "fake")
    decoder = Fixed("fake", [payment])
    scanner = Scanner(decoder, Acceptor(codes.kit_bases(SERVER), PaymentCode), repeat_after_s=3.0)
    # in view for 2 s at 10 fps, then (another glance) 5 s after the last sighting
    times = [n / 10 for n in range(20)] + [6.9]
    reads = list(scanner.scan(frames_at(*times)))
    assert [r.frame.index for r in reads] == [0, 20]  # type: ignore[union-attr]
    assert scanner.tally.repeats == 19 and scanner.tally.accepted == 2 and scanner.tally.frames_decoded == 21


def test_a_refused_code_is_reported_once_while_in_view() -> None:
    poster = Symbol("https://www.ancv.com/", "QRCODE", (), "fake")
    scanner = Scanner(Fixed("fake", [poster]), Acceptor(codes.kit_bases(SERVER), PaymentCode))
    reads = list(scanner.scan(frames_at(0, 0.1, 0.2)))
    assert len(reads) == 1 and isinstance(reads[0], Refused) and len(scanner.tally.refused) == 1


def test_each_reading_says_its_decoder_and_its_time_from_capture_to_decode() -> None:
    frame = Frame(on_frame(grey_code(qr_png(PAYMENT_URL))), 7, 0.23, time.perf_counter())
    [reading] = Scanner(Zbar(), Acceptor(codes.kit_bases(SERVER), PaymentCode)).scan([frame])
    line = reading.to_json()  # type: ignore[union-attr]
    assert line["payload"] == PAYMENT_URL and line["decoder"] == "pyzbar" and line["frame"] == 7
    assert 0 < line["ms"] < 1000  # type: ignore[operator]


# --- sources and capture -------------------------------------------------------------------------

def write_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((48, 64, 3), n * 40, np.uint8))


def read_all(source: sources.FrameSource) -> list[int]:
    with Capture(source) as capture:
        return [int(frame.image[0, 0, 0]) for frame in capture.frames()]


def test_a_folder_is_read_in_name_order_skipping_other_files(tmp_path: Path) -> None:
    write_images(tmp_path, ["b.png", "a.jpg", "c.bmp"])
    (tmp_path / "notes.txt").write_text("not an image")
    assert read_all(sources.open_source(str(tmp_path))) == [40, 0, 80]


def test_a_numbered_pattern_is_read_from_its_first_number_to_the_first_gap(tmp_path: Path) -> None:
    write_images(tmp_path, ["f-001.png", "f-002.png", "f-003.png"])
    write_images(tmp_path / "x", ["f-005.png"])
    assert read_all(sources.open_source(str(tmp_path / "f-%03d.png"))) == [0, 40, 80]
    assert read_all(sources.open_source(str(tmp_path / "f-*.png"))) == [0, 40, 80]


@pytest.mark.parametrize(("spec", "message"), [
    ("missing.avi", "no such video file"),
    ("frames-%04d.png", "no images found"),
    ("*.nothing", "no images found"),
    ("camera:front", "named by its index"),
    ("synthetic:colour=red", "unknown option"),
    ("synthetic:family=clean", "say what to show"),
])
def test_a_source_that_cannot_be_used_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               spec: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match=message):
        sources.open_source(spec)


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    (tmp_path / "clip.avi").write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="cannot read .* as a video"):
        sources.open_source(str(tmp_path / "clip.avi"))


def test_an_image_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"broken")
    with pytest.raises(SourceError, match="a.png"):
        read_all(sources.open_source(str(tmp_path)))


@pytest.mark.skipif(Path("/dev/video0").exists(), reason="this machine has a camera")
def test_no_camera_gives_a_clean_error_not_a_crash() -> None:
    with pytest.raises(SourceError, match="no camera opens at index 0"):
        sources.open_source("camera:0")


class Camera:
    """A live source making a frame every millisecond, numbered in its first pixel."""

    live, fps, description = True, 1000.0, "fake camera"

    def __init__(self, count: int) -> None:
        self.count, self.made = count, 0

    def read(self) -> np.ndarray | None:
        if self.made >= self.count:
            return None
        time.sleep(0.001)
        self.made += 1
        return np.full((2, 2), self.made % 256, np.uint8)

    def close(self) -> None:
        pass


def test_a_slow_reader_of_a_live_source_gets_the_newest_frame_and_skips_the_rest() -> None:
    camera = Camera(300)
    taken: list[tuple[int, int]] = []
    with Capture(camera) as capture:
        for frame in capture.frames():
            taken.append((frame.index, camera.made))
            time.sleep(0.02)  # a decoder twenty times slower than the camera
    assert capture.skipped > 200 and capture.read == 300
    assert len(taken) + capture.skipped == 300
    assert all(a < b for (a, _), (b, _) in zip(taken, taken[1:], strict=False))
    # never behind by more than what the camera made while the last frame was being decoded
    assert all(made - index <= 40 for index, made in taken[:-1])


class Slow(Fixed):
    """A step that takes a camera frame's time and more."""

    def decode(self, grey: np.ndarray) -> list[Symbol]:
        time.sleep(0.004)
        return super().decode(grey)


def test_live_the_scanner_counts_frames_decoded_skipped_and_read_and_spreads_its_retries() -> None:
    camera = Camera(200)  # a frame a millisecond; the cheap step and a retry take 8 ms
    whole = Symbol(CVCO_ID, "CODE128", (), "b")
    retries = [Slow("a", []), Slow("b", [whole])]
    spread = Spread(Chain([Slow("cheap", [])], retries, valid=valid))
    scanner = Scanner(spread, Acceptor(codes.kit_bases(SERVER), IdentifierCode), repeat_after_s=0)
    with Capture(camera) as capture:
        reads = list(scanner.scan(capture.frames()))
    tally = scanner.tally
    assert capture.read == 200 and capture.skipped > 100
    assert tally.frames_decoded + capture.skipped == 200
    assert tally.frames_read == len(reads) == tally.frames_decoded - 1  # all but the first, which tried "a"
    assert spread.retries_run == {"a": 1, "b": tally.frames_decoded - 1}


def test_a_file_is_read_frame_by_frame_in_the_callers_thread(tmp_path: Path) -> None:
    write_images(tmp_path, [f"{n}.png" for n in range(5)])
    before = threading.active_count()
    with Capture(sources.open_source(str(tmp_path))) as capture:
        indexes = [f.index for f in capture.frames()]
        assert threading.active_count() == before
    assert indexes == [0, 1, 2, 3, 4] and capture.skipped == 0


def test_a_paced_file_is_delivered_at_its_frame_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    class Still:
        live, fps, description = False, 25.0, "stills"

        def read(self) -> np.ndarray:
            return np.zeros((2, 2), np.uint8)

        def close(self) -> None:
            pass

    paced = sources.Paced(Still(), clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        paced.read()
    assert paced.live and slept == [0.04, 0.04, 0.04]


# --- preview -------------------------------------------------------------------------------------

def test_the_preview_outlines_each_code_read() -> None:
    frame = on_frame(grey_code(qr_png(PAYMENT_URL)))
    [symbol] = Zbar().decode(to_grey(frame))
    drawn = preview.annotate(frame, [symbol])
    green = (drawn[..., 1] > 150) & (drawn[..., 0] < 100) & (drawn[..., 2] < 100)
    assert green.sum() > 500 and not np.array_equal(drawn, frame)
    assert preview.annotate(frame, []).tobytes() == frame.tobytes()


def test_without_a_gui_the_preview_is_a_page_streaming_the_frames() -> None:
    assert not preview.has_window_support()  # the headless OpenCV wheel: no window, ever
    shown = preview.open_preview()
    try:
        assert isinstance(shown, preview.BrowserPreview)
        assert requests.get(shown.url + "frame.jpg", timeout=5).status_code == 404  # nothing yet
        shown.show(on_frame(grey_code(qr_png(PAYMENT_URL))), [])
        page = requests.get(shown.url, timeout=5)
        jpeg = requests.get(shown.url + "frame.jpg", timeout=5)
        assert "Aperçu du scanner" in page.text and jpeg.headers["Content-Type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(jpeg.content, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert image.shape == (480, 640) and [s.text for s in Zbar().decode(image)] == [PAYMENT_URL]
        with requests.get(shown.url + "stream", stream=True, timeout=5) as stream:
            assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
            assert next(stream.iter_content(64)).startswith(b"--frame")
    finally:
        shown.close()
