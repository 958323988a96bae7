"""How opsgov loads detect-secrets: offline, and without re-reading the call stack's source.

The network client: detect-secrets can *verify* a secret by sending it to the service it belongs to; its
plugins import ``requests`` for that, and ``requests`` (with urllib3, http.client and
email) is about two thirds of the library's import time, paid on every governed commit.
The gate never verifies: it runs on untrusted pull requests, and sending a candidate
secret to a third party is exactly what it must not do. So while detect-secrets is
imported, ``requests`` is a stand-in module: the two names its plugins touch at import
time exist, and every request refuses. ``multiprocessing``, which only its directory
scan uses, is loaded if and when it is first used (:class:`importlib.util.LazyLoader`).

If a detect-secrets release touches anything else of ``requests`` while being imported,
the stand-in is withdrawn and the library imported as it is: slower, never broken.

The caller's name. Its filters find their settings under their own qualified name, which
they learn from ``inspect.stack()``: that builds every frame's source context, reading the
source of each module on the stack (40 to 60 ms per filter on a hook's stack). The same
name comes from the caller's frame directly (:func:`caller_path`); the library's function
is replaced by it in the filter modules that use it, and only when it is the one expected.
"""
from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any, NoReturn

from opsgov_hooks.lazy import lazy_module


class OfflineError(RuntimeError):
    """Raised by every request: opsgov never sends anything over the network."""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise OfflineError("opsgov's secret scan never contacts a service (verification is off)")


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("requests", "opsgov: requests is not loaded; the secret scan is offline")
    exceptions = types.ModuleType("requests.exceptions")
    exceptions.RequestException = type("RequestException", (OSError,), {})  # type: ignore[attr-defined]
    module.exceptions = exceptions  # type: ignore[attr-defined]
    module.RequestException = exceptions.RequestException  # type: ignore[attr-defined]
    module.Response = type("Response", (), {})  # type: ignore[attr-defined]
    for verb in ("request", "get", "post", "put", "patch", "delete", "head", "options", "Session", "session"):
        setattr(module, verb, _refuse)
    return module


# Every detect-secrets module the scan uses that imports ``requests``, imported while the
# stand-in is in place; the plugins are imported by the library's own discovery.
_MODULES = ("detect_secrets", "detect_secrets.settings", "detect_secrets.core.scan",
            "detect_secrets.filters.common", "detect_secrets.core.plugins.util")


def caller_path(offset: int = 0) -> str:
    """What ``detect_secrets.filters.util.get_caller_path`` returns: the calling function's
    ``module.function`` name (``offset`` frames further out), from its frame alone."""
    frame = sys._getframe(1 + offset)   # 0: here, 1: who asks (inspect.stack()[1] in the original)
    return f"{frame.f_globals['__name__']}.{frame.f_code.co_name}"


def _quicker_caller_path() -> None:
    util = sys.modules.get("detect_secrets.filters.util")
    original: Callable[..., str] | None = getattr(util, "get_caller_path", None)
    if original is None:
        return
    for name in ("detect_secrets.filters.common", "detect_secrets.filters.regex"):
        module = importlib.import_module(name)
        if getattr(module, "get_caller_path", None) is original:
            module.get_caller_path = caller_path  # type: ignore[attr-defined]


def load_detect_secrets() -> None:
    """Import what the scan uses of detect-secrets, with ``requests`` stood in for (once per process)."""
    if "detect_secrets.core.plugins.util" in sys.modules or "requests" in sys.modules:
        return
    lazy_module("multiprocessing")
    stand_in = _stand_in()
    sys.modules["requests"] = stand_in
    sys.modules["requests.exceptions"] = stand_in.exceptions
    try:
        for name in _MODULES:
            importlib.import_module(name)
        sys.modules["detect_secrets.core.plugins.util"].get_mapping_from_secret_type_to_class()
        _quicker_caller_path()
    except Exception:  # noqa: BLE001 - any surprise: withdraw the stand-in, import the library as it is
        for loaded in [m for m in sys.modules if m.split(".")[0] in ("detect_secrets", "requests")]:
            del sys.modules[loaded]
    finally:
        # Withdrawn from sys.modules either way: the plugins keep it, anything imported later gets
        # the real library.
        for name in ("requests", "requests.exceptions"):
            if sys.modules.get(name) is stand_in or sys.modules.get(name) is getattr(stand_in, "exceptions"):
                del sys.modules[name]
