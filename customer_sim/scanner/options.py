"""The options of `ancv-sandbox scan`, apart from the code that runs them.

`ancv-sandbox` builds its whole command line before `serve` patches the standard library for
gevent; this module imports nothing that would load `ssl` (requests, OpenCV…) first.
"""

from __future__ import annotations

import argparse

DEFAULT_SERVER = "http://127.0.0.1:8421"
DECODER_NAMES = ("combination", "pyzbar", "zxing-cpp", "opencv", "opencv-aruco")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="role", choices=("beneficiary", "merchant"), required=True,
                        help="beneficiary: pay payment QR codes; merchant: charge CVCoId codes")
    parser.add_argument("--server", default=DEFAULT_SERVER, help=f"the sandbox (default {DEFAULT_SERVER})")
    parser.add_argument("--public-url", help="the sandbox's --public-url, if its codes name another address")
    parser.add_argument("--admin-token", help="the server's admin token, if it has one")
    parser.add_argument("--beneficiary", help="beneficiary: the account that pays (11 digits)")
    parser.add_argument("--pin", help="beneficiary: the 6-digit personal code (default: the account's, from the fixtures)")
    parser.add_argument("--shop", help="merchant: the point of sale (shopId) that charges")
    parser.add_argument("--amount", help="merchant: the amount to charge, in euros (e.g. 40 or 12,50); "
                                         "beneficiary: pay less than asked (001 payments)")
    parser.add_argument("--wait", type=float, default=330.0,
                        help="merchant: seconds to wait for the beneficiary's answer (default 330)")
    parser.add_argument("--source", default="camera:0",
                        help="camera:N, a video file, an image pattern (frame-%%04d.png, *.png), a folder, "
                             "or synthetic:… (default camera:0)")
    parser.add_argument("--realtime", action="store_true",
                        help="replay a file at its frame rate, as a camera would (frames may be skipped)")
    parser.add_argument("--decoder", choices=DECODER_NAMES, default="combination",
                        help="which decoder reads the frames (default: zxing-cpp, then retries: straightened, 2x, CLAHE, pyzbar)")
    parser.add_argument("--once", action="store_true", help="stop after the first accepted read")
    parser.add_argument("--json", action="store_true", help="one JSON line per accepted read")
    parser.add_argument("--preview", action="store_true",
                        help="show what the camera sees, with the codes outlined (a window, or a browser page)")
