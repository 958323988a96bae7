"""detect-secrets is loaded offline and without inspect.stack(), and finds what it found before."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (module state is per process) and return its output."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_network_client_is_never_loaded_and_refuses_if_called() -> None:
    out = _python("""
        import sys
        from opsgov_hooks.rules.detect_secrets_loader import OfflineError, load_detect_secrets
        load_detect_secrets()
        import detect_secrets.plugins.base as base
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("requests", "urllib3", "http"))
        try:
            base.requests.get("https://example.com")
            refused = False
        except OfflineError:
            refused = True
        import requests   # a later import gets the real library
        print(loaded, refused, hasattr(requests, "__version__"))
    """)
    assert out == "[] True True"


def test_filters_learn_the_name_the_library_would_give_them() -> None:
    out = _python("""
        from opsgov_hooks.rules.detect_secrets_loader import caller_path, load_detect_secrets
        load_detect_secrets()
        import detect_secrets.filters.common as common, detect_secrets.filters.regex as regex
        import detect_secrets.filters.util as util
        def filter_like():
            return ask()
        def ask():
            return [util.get_caller_path(), caller_path(), util.get_caller_path(offset=1), caller_path(offset=1)]
        names = filter_like()
        print(common.get_caller_path is caller_path, regex.get_caller_path is caller_path, len(set(names[:2])),
              len(set(names[2:])), names[0], names[2])
    """)
    assert out == "True True 1 1 __main__.ask __main__.filter_like"


def test_a_secret_is_still_found_and_a_pinned_hash_still_is_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = _python("""
        import sys
        from opsgov_hooks.git.patches import AddedLine
        from opsgov_hooks.rules.secrets import find_secrets
        lines = [AddedLine("ops/app.yaml", 1, "aws_access_key_id: AKIAIOSFODNN7EXAMPLE"),
                 AddedLine(".pre-commit-config.yaml", 2, "  rev: 3f1e6a2c9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f")]
        found = find_secrets(lines, lambda names: set())
        print(sorted({(f[0].path, f[1]) for f in found}), "requests" in sys.modules)
    """)
    assert out == "[('ops/app.yaml', 'AWS Access Key')] False"
