"""The package's optional parts (pip extras): whether one is installed, and the line that says how to get it.

`pip install ancv-sandbox` alone runs `serve`; the tools around it need more (pyproject.toml's
[project.optional-dependencies]). Their modules are imported only inside the commands that use them, and
those commands ask here first so a missing extra is one line, not a traceback.
"""

from __future__ import annotations

from importlib.util import find_spec

# Extra name -> the modules it brings (import names, not distribution names) and what they are for.
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "scan": (("cv2", "numpy", "zxingcpp"), "OpenCV, numpy and zxing-cpp"),
    "report": (("matplotlib",), "matplotlib"),
    "dask": (("distributed",), "Dask's distributed client"),
}


def missing_extra(extra: str) -> str | None:
    """None when every module of `extra` can be imported, else one line naming the extra to install."""
    modules, what = EXTRAS[extra]
    absent = [name for name in modules if find_spec(name) is None]
    if not absent:
        return None
    return f"needs the '{extra}' extra ({what}; missing: {', '.join(absent)}): pip install 'ancv-sandbox[{extra}]'"
