"""The Examples sections of the public API run as doctests (on the embedded demo data)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import care15

MODULES = sorted(
    ["care15", *(f"care15.{m.name}" for m in pkgutil.iter_modules(care15.__path__)
                 if m.name not in ("_shadow", "_dijkstra")),
     *(f"care15.sources.{m.name}" for m in pkgutil.iter_modules(care15.sources.__path__))])


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in MODULES:
        mod = importlib.import_module(name)
        tests += [t for t in finder.find(mod, name) if t.examples
                  and (t.name == name or t.name.startswith(name + "."))]
    return sorted(tests, key=lambda t: t.name)


DOCTESTS = _doctests()


def test_the_main_entry_points_have_examples():
    names = {t.name for t in DOCTESTS}
    for entry in ("care15.analysis.analyze", "care15.analysis.summary_table",
                  "care15.pipeline.run", "care15.maps.coverage_map"):
        assert entry in names, entry


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {test.name}"
