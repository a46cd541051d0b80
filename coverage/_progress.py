"""Progress on stderr: bars for long loops and a line per stage; ``verbose=False`` silences both."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "step"]

T = TypeVar("T")
log = logging.getLogger("care15")


def progress(it: Iterable[T], *, verbose: bool, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``it`` in a tqdm bar on stderr unless ``verbose`` is False.

    Parameters
    ----------
    it
        The items.
    verbose
        Show the bar.
    desc
        The bar's label.
    total
        Number of items, when ``it`` has no length.

    Yields
    ------
    object
        The items of ``it``.
    """
    yield from tqdm(it, desc=desc, total=total, disable=not verbose, leave=False,
                    file=sys.stderr)


@contextmanager
def step(desc: str, *, verbose: bool) -> Iterator[None]:
    """Say on stderr that a stage starts and how long it took; log the time at DEBUG level.

    Parameters
    ----------
    desc
        What the stage does.
    verbose
        Print the two lines.

    Yields
    ------
    None
        The stage runs inside the block.
    """
    t0 = time.perf_counter()
    if verbose:
        tqdm.write(f"· {desc} …", file=sys.stderr)
    yield
    dt = time.perf_counter() - t0
    log.debug("%s took %.2f s", desc, dt)
    if verbose:
        tqdm.write(f"  done in {dt:.1f} s", file=sys.stderr)
