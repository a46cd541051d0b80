"""Small helpers shared by the loaders and writers: column lookup, layer reading, sheet letters."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

from ._errors import InputError

__all__ = ["letters", "pick_column", "read_layer"]


def pick_column(cols: Iterable[object], names: Iterable[str]) -> str | None:
    """The first column whose name (trimmed, any case) is one of ``names``, else None."""
    low = {str(c).strip().lower(): c for c in cols}
    for n in names:
        if n.lower() in low:
            return str(low[n.lower()])
    return None


def read_layer(path: str | Path, *, what: str) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoParquet by suffix, else any format GDAL reads).

    Raises InputError naming the file: ``"<path>: <what> not found"`` or ``"could not read the
    layer"`` with the reader's reason.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: {what} not found")
    try:
        return gpd.read_parquet(p) if p.suffix.lower() == ".parquet" else gpd.read_file(p)
    except Exception as e:
        raise InputError(f"{p}: could not read the layer ({type(e).__name__}: {e})") from e


def letters(i: int) -> str:
    """Spreadsheet-style letters of a 1-based index: 1 → A, 26 → Z, 27 → AA."""
    s = ""
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
