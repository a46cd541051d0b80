"""Progress bars that ``--quiet`` (``verbose=False``) silences."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "step"]

T = TypeVar("T")
log = logging.getLogger("care15")


def progress(it: Iterable[T], *, verbose: bool, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``it`` in a tqdm bar unless ``verbose`` is False."""
    yield from tqdm(it, desc=desc, total=total, disable=not verbose, leave=False)


@contextmanager
def step(desc: str, *, verbose: bool) -> Iterator[None]:
    """Log the start and the duration of a stage (shown on stderr when ``verbose``)."""
    t0 = time.perf_counter()
    if verbose:
        tqdm.write(f"· {desc} …")
    yield
    dt = time.perf_counter() - t0
    log.debug("%s took %.2f s", desc, dt)
    if verbose:
        tqdm.write(f"  done in {dt:.1f} s")
