"""The camera path: frame sources, decoders, the scan loop, and what a read code sets off.

Used by `ancv-sandbox scan` (cli.py), the benchmark (bench/scanner.py) and the tests, which feed it
synthetic frames and videos (synthetic.py, dataset.py) instead of a webcam.
"""
