"""Who is acting: the login name, for run users and the alias audit log."""

from __future__ import annotations

import getpass


def login_name() -> str:
    """The login name, or "" when the system has none (no passwd entry in some containers)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""
