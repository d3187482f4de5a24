"""The web surfaces of the sandbox."""

from .app import create_app

__all__ = ["create_app"]
