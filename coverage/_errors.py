"""Error and warning classes of care15 and helpers that build their messages."""

from __future__ import annotations

__all__ = [
    "Care15Warning",
    "DataWarning",
    "InputError",
    "ScenarioError",
]


class InputError(ValueError):
    """Input data care15 cannot use: names the file, row or feature and the fix."""


class ScenarioError(InputError):
    """A scenario that fails validation: names the key and what is allowed."""


class Care15Warning(UserWarning):
    """Base class of care15's warnings."""


class DataWarning(Care15Warning):
    """Input data that can be used but looks wrong (swapped axes, GCJ-02 declared WGS-84...)."""
