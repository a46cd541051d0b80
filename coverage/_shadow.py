"""Step aside when the source folder is imported as ``coverage`` instead of ``care15``.

care15's package folder is called ``coverage/`` (the project's layout) and is installed under
the import name ``care15``. When the repository's root is on ``sys.path`` (``python -m pytest``
or ``python -m coverage`` run from a clone), ``import coverage`` would find this folder before
coverage.py. :func:`step_aside` then hands the name ``coverage`` to the installed coverage.py, so
coverage.py and pytest-cov keep working beside a care15 checkout.
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["step_aside"]


def step_aside(name: str, folder: str) -> None:
    """Replace ``sys.modules[name]`` by the installed package of that name.

    Parameters
    ----------
    name
        The name this folder was imported under (``"coverage"``).
    folder
        This package folder's path; its parent is taken off ``sys.path``.

    Raises
    ------
    ImportError
        When no other package of that name is installed: care15 must be imported as ``care15``.
    """
    root = os.path.normcase(os.path.realpath(os.path.dirname(folder)))
    sys.path[:] = [p for p in sys.path
                   if os.path.normcase(os.path.realpath(p or os.getcwd())) != root]
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]
    try:
        real = importlib.import_module(name)
    except ImportError:
        raise ImportError(
            f"{folder} is care15's source folder; import it as `care15` (pip install -e "
            f"{os.path.dirname(folder)}), not as `{name}`") from None
    sys.modules[name] = real
