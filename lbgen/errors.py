"""The one exception lbgen raises for what a user can fix (a file it cannot read, a daemon
missing, a bad flag's value): the CLI prints its message and exits 2, never a traceback.
Findings about a spec or lbgen's output are diagnostics (lbgen.diagnostics), not exceptions."""

from __future__ import annotations


class LbgenError(Exception):
    """One line that says what went wrong and what to do."""
