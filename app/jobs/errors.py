"""What a handler raises when retrying cannot help."""

from __future__ import annotations


class PermanentFailure(Exception):
    """The event is dead-lettered at once, with this message as its reason, for a person to
    look at (and replay once the cause is fixed)."""
