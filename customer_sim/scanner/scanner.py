"""The scan loop: newest frame → grey → decoders → validation → de-duplication → a `Reading`.

A code held in front of the camera is in many frames in a row; it is reported once, and again
only after it has been out of sight for `repeat_after_s` (a second payment of the same code is a
deliberate act, not a shaky hand).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .codes import Code, Refused
from .decoders import Decoder, Symbol, to_grey
from .sources import Frame

REPEAT_AFTER_S = 3.0


@dataclass(frozen=True)
class Reading:
    """An accepted read."""

    code: Code
    symbol: Symbol
    frame: Frame
    decode_ms: float  # from the frame's capture to the end of its decoding

    def to_json(self) -> dict[str, object]:
        return {"payload": self.symbol.text, "symbology": self.symbol.symbology, "decoder": self.symbol.decoder,
                "frame": self.frame.index, "ms": round(self.decode_ms, 1)}


@dataclass
class Tally:
    """What the scan loop did, for the summary line and the benchmark."""

    frames_decoded: int = 0
    frames_with_code: int = 0  # a decoder read something, valid or not
    frames_read: int = 0  # at least one code the role acts on was read (new, or held in view)
    accepted: int = 0
    repeats: int = 0
    refused: list[Refused] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)


class Scanner:
    def __init__(self, decoder: Decoder, accept: Callable[[str], Code | Refused], *,
                 repeat_after_s: float = REPEAT_AFTER_S, clock: Callable[[], float] = time.perf_counter,
                 on_frame: Callable[[Frame, list[Symbol]], None] | None = None) -> None:
        self.decoder, self.accept = decoder, accept
        self.repeat_after_s = repeat_after_s
        self.tally = Tally()
        self._clock = clock
        self._on_frame = on_frame
        self._last_seen: dict[str, float] = {}  # text → source time it was last in a frame

    def scan(self, frames: Iterable[Frame]) -> Iterator[Reading | Refused]:
        """Accepted reads, and each refused text once (so the operator learns why nothing happens)."""
        for frame in frames:
            symbols = self.decoder.decode(to_grey(frame.image))
            elapsed_ms = (self._clock() - frame.captured) * 1000
            self.tally.frames_decoded += 1
            self.tally.decode_ms.append(elapsed_ms)
            self.tally.frames_with_code += bool(symbols)
            if self._on_frame is not None:
                self._on_frame(frame, symbols)
            verdicts = [(symbol, self.accept(symbol.text)) for symbol in symbols]
            self.tally.frames_read += any(not isinstance(verdict, Refused) for _, verdict in verdicts)
            for symbol, verdict in verdicts:
                if self._seen_recently(symbol.text, frame.at):
                    self.tally.repeats += 1
                    continue
                if isinstance(verdict, Refused):
                    self.tally.refused.append(verdict)
                    yield verdict
                else:
                    self.tally.accepted += 1
                    yield Reading(verdict, symbol, frame, elapsed_ms)

    def _seen_recently(self, text: str, at: float) -> bool:
        last = self._last_seen.get(text)
        self._last_seen[text] = at
        return last is not None and at - last < self.repeat_after_s
