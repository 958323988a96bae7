"""``opsgov report``: an audit report of a period, in Markdown, JSON or self-contained HTML.

collect (git, batched) -> Facts -> build_report (pure) -> Report -> a renderer (pure); the command's
entry is :func:`opsgov_hooks.audit.run.run_report`. Nothing is imported here, so reading one
module of the report (its period parsing, say) loads only that module.
"""
