"""A library imported when first used, for one that most runs of a command never touch.

Why: the gate is a hook that runs on every commit, and importing a library costs whether
or not the run needs it. The strict YAML loader, for one, answers records as opsgov writes
them with one regular expression; libyaml (15 ms to import) is needed only by a stream that
regular expression does not answer, or to locate a problem in one.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def lazy_module(name: str) -> types.ModuleType:
    """Module ``name``, executed on its first attribute access (:class:`importlib.util.LazyLoader`);
    the module itself when it is imported already. A missing module raises ``ImportError`` now."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return importlib.import_module(name)   # raises what a plain import raises
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
