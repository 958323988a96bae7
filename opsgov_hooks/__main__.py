from __future__ import annotations

from opsgov_hooks.cli import main

raise SystemExit(main())
