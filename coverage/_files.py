"""Writing files safely: one atomic writer for every file care15 writes, and staged folders.

Every output file is written to a temporary file beside its target and renamed onto it, so a
reader sees the old file or the complete new one. A whole run writes into a staging folder
beside ``--out`` that replaces the previous contents in one step when the run has succeeded
(:func:`staged_folder`): after a kill, an interrupt or a crash the folder holds the previous
complete run (or nothing), never a mixture.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._errors import InputError

__all__ = [
    "atomic_file",
    "atomic_path",
    "check_out_folder",
    "output_lock",
    "staged_folder",
    "write_text_atomic",
]

_STAGING = ".staging-"
_OLD = ".old-"
_LOCK = ".lock"


def _temp_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp{path.suffix}"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a free temporary path beside ``path``; rename it onto ``path`` when the block ends.

    For writers that create the file themselves (GDAL, openpyxl, matplotlib). On error the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path
        The file to write.

    Yields
    ------
    Path
        Where the writer should write (same folder, so the rename is atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb",
                encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it onto ``path``.

    Parameters
    ----------
    path
        The file to write.
    mode
        ``"wb"`` or ``"w"``.
    encoding
        Text encoding for ``"w"``.

    Yields
    ------
    file object
        The open temporary file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_file(p, "w", encoding="utf-8") as f:
    ...     _ = f.write("complete")
    >>> p.read_text()
    'complete'
    """
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, mode, encoding=encoding,
                       newline=None if "b" in mode else "") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`).

    Parameters
    ----------
    path
        The file to write.
    text
        Its content.
    encoding
        Text encoding (``"utf-8-sig"`` for CSV that Excel opens).

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_file(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def _owner(name: str) -> int:
    """The process id in a staging or old-folder name (``.out.staging-<pid>-<hex>``)."""
    try:
        return int(name.rsplit("-", 2)[-2])
    except (IndexError, ValueError):
        return -1


def _clean_leftovers(out: Path) -> None:
    """Remove what killed runs left beside ``out``; bring back a previous run caught mid-swap."""
    parent = out.parent
    olds = sorted(parent.glob(f".{out.name}{_OLD}*"))
    for p in olds:
        if _pid_alive(_owner(p.name)):
            continue
        if not out.exists():  # killed between the two renames: the old run is complete
            os.replace(p, out)
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in parent.glob(f".{out.name}{_STAGING}*"):
        if not _pid_alive(_owner(p.name)):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def output_lock(out: str | Path, *, flag: str = "--out") -> Iterator[None]:
    """Hold the lock of an output folder: a second run into it stops at once with a message.

    Parameters
    ----------
    out
        The output folder.
    flag
        How the folder is named in messages.

    Yields
    ------
    None
        The folder is this process's while the block runs.

    Raises
    ------
    InputError
        When a live process holds the lock (a lock left by a killed run is taken over).
    """
    with _lock(check_out_folder(out, flag=flag), flag):
        yield


@contextlib.contextmanager
def _lock(out: Path, flag: str) -> Iterator[None]:
    lock = out.parent / f".{out.name}{_LOCK}"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            try:
                pid = int(lock.read_text(encoding="ascii").strip() or -1)
            except (OSError, ValueError):
                pid = -1
            if _pid_alive(pid):
                raise InputError(
                    f"{out}: another care15 run (process {pid}) is writing this folder; wait "
                    f"for it to finish, or choose another {flag}") from None
            with contextlib.suppress(OSError):
                lock.unlink()  # left by a run that was killed
            continue
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(str(os.getpid()))
        break
    else:  # pragma: no cover - another process took the lock between our two tries
        raise InputError(f"{out}: another care15 run is writing this folder; choose another "
                         f"{flag}")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


def check_out_folder(out: str | Path, *, flag: str = "--out") -> Path:
    """Check that ``out`` can be a run's output folder before any work starts.

    Parameters
    ----------
    out
        The output folder (created if missing; its parent must be writable).
    flag
        How the folder is named in messages.

    Returns
    -------
    Path
        ``out`` made absolute.

    Raises
    ------
    InputError
        When ``out`` is a file, or its parent folder cannot be created or written.
    """
    out = Path(out).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise InputError(f"{flag} {out}: is a file, not a folder; give a folder for the outputs")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{flag} {out}: cannot create {parent} ({e.strerror}); choose another "
                         f"{flag}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {out}: the folder {parent} is not writable; choose another "
                         f"{flag}")
    return out


@contextlib.contextmanager
def staged_folder(out: str | Path, *, flag: str = "--out", locked: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out``; make it ``out`` when the block succeeds.

    The previous contents of ``out`` are replaced in one step (two renames; a run killed
    between them is brought back by the next run). On error the staging folder is removed
    and ``out`` keeps the previous complete run. Two runs into one folder cannot both write:
    the second stops with a message naming the first one's process. Leftovers of killed runs
    are removed first.

    Parameters
    ----------
    out
        The output folder.
    flag
        How the folder is named in messages.
    locked
        The caller holds :func:`output_lock` already.

    Yields
    ------
    Path
        The staging folder to write every output into.

    Raises
    ------
    InputError
        When ``out`` is a file or not writable, or another run is writing it.
    """
    out = check_out_folder(out, flag=flag)
    with contextlib.nullcontext() if locked else _lock(out, flag):
        _clean_leftovers(out)
        tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        stage = out.parent / f".{out.name}{_STAGING}{tag}"
        stage.mkdir()
        try:
            yield stage
            if out.exists():
                old = out.parent / f".{out.name}{_OLD}{tag}"
                os.replace(out, old)
                os.replace(stage, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(stage, out)
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
