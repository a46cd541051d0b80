"""Progress on stderr: bars for long loops and a line per stage; ``verbose=False`` silences both.

The labels are written in English by the stages and shown in the console's language
(:func:`set_lang`, set by the ``care15`` command from ``--lang``). A bar always ends on a
closed line that says how many items were done: on a terminal the tqdm bar is left at its
final state, elsewhere (a log file, a pipe) no bar is drawn and one line is written at the end,
so a captured stderr never holds a bar stuck at ``0%``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm.auto import tqdm

from ._notes import translate

__all__ = ["console_lang", "progress", "set_lang", "step"]

T = TypeVar("T")
log = logging.getLogger("care15")

_LANG = ["en"]


def set_lang(lang: str) -> None:
    """Show progress labels in ``lang`` from now on.

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.
    """
    _LANG[0] = lang


def console_lang() -> str:
    """The language of the progress labels.

    Returns
    -------
    str
        ``"zh"`` or ``"en"``.
    """
    return _LANG[0]


def _tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress(it: Iterable[T], *, verbose: bool, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``it`` in a tqdm bar on stderr unless ``verbose`` is False.

    Parameters
    ----------
    it
        The items.
    verbose
        Show the bar.
    desc
        The bar's label (English; shown in the console's language).
    total
        Number of items, when ``it`` has no length.

    Yields
    ------
    object
        The items of ``it``.
    """
    if not verbose:
        yield from it
        return
    label = translate(desc, console_lang())
    if total is None:
        total = len(it) if hasattr(it, "__len__") else None  # type: ignore[arg-type]
    if _tty():
        bar = tqdm(it, desc=label, total=total, leave=True, file=sys.stderr)
        try:
            yield from bar
        finally:
            bar.close()
        return
    t0 = time.perf_counter()
    n = 0
    try:
        for x in it:
            yield x
            n += 1
    finally:
        dt = time.perf_counter() - t0
        of = f"{n}/{total}" if total is not None else f"{n}"
        tqdm.write(f"  {label}: {of} " + (f"用时 {dt:.1f} 秒" if console_lang() == "zh"
                                          else f"in {dt:.1f} s"), file=sys.stderr)


@contextmanager
def step(desc: str, *, verbose: bool) -> Iterator[None]:
    """Say on stderr that a stage starts and how long it took; log the time at DEBUG level.

    Parameters
    ----------
    desc
        What the stage does (English; shown in the console's language).
    verbose
        Print the two lines.

    Yields
    ------
    None
        The stage runs inside the block.
    """
    t0 = time.perf_counter()
    label = translate(desc, console_lang())
    if verbose:
        tqdm.write(f"· {label} …", file=sys.stderr)
    yield
    dt = time.perf_counter() - t0
    log.debug("%s took %.2f s", desc, dt)
    if verbose:
        tqdm.write(f"  用时 {dt:.1f} 秒" if console_lang() == "zh" else f"  done in {dt:.1f} s",
                   file=sys.stderr)
