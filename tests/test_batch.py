"""care15 batch: regions file, many regions on a two-worker local cluster, re-runs, failures."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CN
from test_tiling import synthetic_layers

from care15._errors import InputError
from care15.batch import (
    DONE_MARKER,
    BatchOptions,
    local_cluster,
    region_input_hash,
    regions_from_dict,
    regions_from_toml,
    run_region,
    run_regions,
)
from care15.cache import network_to_npz
from care15.synthetic import grid_network


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each on 127.0.0.1, shared by the module's tests."""
    from distributed import Client

    cluster = local_cluster(2)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _write_layers(net, folder: Path, name: str, **kw) -> dict[str, str]:
    fac, cells, comm = synthetic_layers(net, prefix=f"{name}-", **kw)
    fac.to_file(folder / f"{name}_fac.geojson")
    cells.to_parquet(folder / f"{name}_cells.parquet")
    comm.to_parquet(folder / f"{name}_comm.parquet")
    return {"facilities": f"{name}_fac.geojson", "cells": f"{name}_cells.parquet",
            "communities": f"{name}_comm.parquet"}


def _toml_layers(layers: dict[str, str]) -> str:
    return "[region.layers]\n" + "".join(f'{k} = "{v}"\n' for k, v in layers.items())


@pytest.fixture(scope="module")
def regions_dir(tmp_path_factory, helsinki_pbf, helsinki_net) -> Path:
    """A regions file with real and generated regions and two that fail on purpose."""
    from care15.sources.osm import network_from_pbf

    d = tmp_path_factory.mktemp("regions")
    hel = _write_layers(helsinki_net, d, "helsinki", n_fac=8, n_cells=150)
    grid = grid_network(30, spacing_m=80, seed=1)
    network_to_npz(grid, d / "grid.npz")
    gl = _write_layers(grid, d, "grid", n_fac=6, n_cells=200, seed=1)
    big = grid_network(50, spacing_m=80, seed=2)
    network_to_npz(big, d / "big.npz")
    bl = _write_layers(big, d, "big", n_fac=10, n_cells=600, seed=2)
    (d / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [')
    (d / "scenarios").mkdir()
    (d / "scenarios" / "helsinki.toml").write_text(
        f'[area]\nname = "Helsinki 中心"\npbf = "{helsinki_pbf}"\n'
        '[speeds]\nelderly_mps = 0.8\n', encoding="utf-8")
    text = f"""
[batch]
cache = "{d / 'cache'}"
maps = false
lang = "en"

[defaults]
categories = ["elderly", "childcare"]
[defaults.analysis]
cell_size_m = 100

[[region]]
name = "helsinki"
scenario = "scenarios/helsinki.toml"
{_toml_layers(hel)}
[[region]]
name = "grid"
{_toml_layers({"network": "grid.npz", "facilities": gl["facilities"], "cells": gl["cells"]})}
[[region]]
name = "big_tiled"
max_cells_per_task = 200
{_toml_layers({"network": "big.npz", **bl})}
[[region]]
name = "missing_pbf"
[region.area]
pbf = "nowhere/city.osm.pbf"

[[region]]
name = "broken_layer"
{_toml_layers({"network": "grid.npz", "facilities": "broken.geojson", "cells": gl["cells"]})}
"""
    beijing = CN / "cn_beijing_haidian_cau_2026.osm.pbf"
    if beijing.is_file():
        bj = _write_layers(network_from_pbf(beijing), d, "beijing", n_fac=6, n_cells=120, seed=3)
        text += f'\n[[region]]\nname = "北京_海淀"\n[region.area]\npbf = "{beijing}"\n' \
            + _toml_layers(bj)
    (d / "regions.toml").write_text(text, encoding="utf-8")
    return d


def test_regions_file_is_validated_in_one_go(tmp_path):
    bad = {
        "batch": {"max_cells_per_task": 0, "colour": "red", "lang": "fr"},
        "defaults": {"areas": {}},
        "region": [
            {"name": "a", "area": {"pbf": "x.pbf"}, "thresholds": [5]},
            {"area": {}},
            {"name": "a"},
            {"name": "../up", "layers": {"cells": 3, "roads": "r.shp"}},
        ],
        "regions": [],
    }
    with pytest.raises(InputError) as e:
        regions_from_dict(bad, base_dir=tmp_path, origin="regions.toml")
    msg = str(e.value)
    for part in ("[batch] max_cells_per_task: must be an integer >= 1",
                 "[batch] colour: unknown key", "[batch] lang: 'fr'",
                 "[defaults] areas: unknown scenario key",
                 "region 1 ('a'): thresholds: unknown key",
                 "region 2: name: missing",
                 "region 3 ('a'): name: 'a' is already used by region 1",
                 "region 4 ('../up'): name: '../up' cannot be a folder name",
                 "region 4 ('../up'): layers.cells: must be a file path",
                 "region 4 ('../up'): layers.roads: unknown key",
                 "region 4 ('../up'): layers.facilities: missing",
                 "regions: unknown top-level key"):
        assert part in msg, part
    with pytest.raises(InputError, match="no regions"):
        regions_from_dict({"region": []}, base_dir=tmp_path)
    with pytest.raises(InputError, match="not found"):
        regions_from_toml(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[[region]\n")
    with pytest.raises(InputError, match="not valid TOML"):
        regions_from_toml(tmp_path / "bad.toml")


def test_scenarios_merge_defaults_file_and_inline(tmp_path, helsinki_pbf):
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "base.toml").write_text(
        'thresholds_min = [5, 10, 15]\n'
        '[area]\nname = "Base"\npbf = "city.osm.pbf"\n[speeds]\nelderly_mps = 0.7\n')
    shutil.copyfile(helsinki_pbf, tmp_path / "sc" / "city.osm.pbf")
    data = {
        "batch": {"max_nodes_per_task": 1000, "cache": False},
        "defaults": {"categories": ["elderly"], "speeds": {"elderly_mps": 0.9,
                                                           "default_mps": 1.1}},
        "region": [
            {"name": "from_file", "scenario": "sc/base.toml"},
            {"name": "override", "scenario": "sc/base.toml", "speeds": {"elderly_mps": 0.6},
             "max_nodes_per_task": 5},
            {"name": "bad_value", "scenario": "sc/base.toml", "speeds": {"elderly_mps": 9.0}},
            {"name": "no_file", "scenario": "sc/none.toml"},
            {"name": "no_network", "categories": ["elderly"]},
        ],
    }
    specs, opts = regions_from_dict(data, base_dir=tmp_path)
    assert opts.cache is False and opts.max_nodes_per_task == 1000
    a, b, c, d, e = specs
    assert a.scenario.area.name == "Base"  # the file's name wins over the region name
    assert a.scenario.area.pbf == tmp_path / "sc" / "city.osm.pbf"  # relative to the file
    assert a.scenario.speeds.elderly_mps == 0.7  # file over defaults
    assert a.scenario.speeds.default_mps == 1.1  # defaults fill the rest
    assert a.scenario.categories == ("elderly",)
    assert a.max_nodes_per_task == 1000
    assert b.scenario.speeds.elderly_mps == 0.6 and b.max_nodes_per_task == 5
    assert c.scenario is None and "region 3 ('bad_value')" in c.error and \
        "speeds.elderly_mps" in c.error
    assert d.scenario is None and "scenario: file not found" in d.error
    assert e.scenario is None and "no street network" in e.error
    # the input hash follows the scenario and the bytes of its files
    h = region_input_hash(a, opts)
    assert h == region_input_hash(a, opts) and h != region_input_hash(b, opts)
    with open(tmp_path / "sc" / "city.osm.pbf", "ab") as f:
        f.write(b"\0")
    assert region_input_hash(a, opts) != h


def test_batch_on_two_workers(client, regions_dir, tmp_path):
    specs, options = regions_from_toml(regions_dir / "regions.toml")
    out = tmp_path / "out"
    t0 = time.perf_counter()
    table = run_regions(specs, out, options=options, client=client, verbose=False)
    first = time.perf_counter() - t0
    st = dict(zip(table["region"], table["status"], strict=True))
    expect = {"helsinki": "ok", "grid": "ok", "big_tiled": "ok", "missing_pbf": "failed",
              "broken_layer": "failed"}
    if "北京_海淀" in st:
        expect["北京_海淀"] = "ok"
    assert st == expect
    assert list(table["region"]) == [s.name for s in specs]  # the file's order
    err = table.set_index("region")["error"]
    assert "region 4 ('missing_pbf')" in err["missing_pbf"]
    assert "area.pbf (--pbf): file not found" in err["missing_pbf"]
    assert "layers.facilities: cannot read" in err["broken_layer"] and \
        "broken.geojson" in err["broken_layer"]
    assert (err[[k for k, v in expect.items() if v == "ok"]] == "").all()
    on_disk = pd.read_csv(out / "regions.csv", encoding="utf-8-sig")
    assert list(on_disk["region"]) == list(table["region"])
    assert list(on_disk["status"]) == list(table["status"])
    t = table.set_index("region")
    assert t.loc["big_tiled", "tiles"] > 1 and t.loc["grid", "tiles"] == 1
    assert t.loc["helsinki", "n_nodes"] > 5000
    for name, status in expect.items():
        folder = out / name
        if status == "ok":
            assert 0 <= t.loc[name, "elderly_covered_share"] <= 1
            assert (folder / "summary.json").is_file() and (folder / "communities.csv").is_file()
            assert (folder / DONE_MARKER).is_file()
            assert not (folder / "error.txt").exists()
            summ = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            assert summ["categories"]["elderly"]["target_share"] == pytest.approx(
                t.loc[name, "elderly_covered_share"])
        else:
            assert not (folder / DONE_MARKER).exists()
            assert (folder / "error.txt").is_file()
    summ = json.loads((out / "helsinki" / "summary.json").read_text(encoding="utf-8"))
    assert summ["study_area"] == "Helsinki 中心"
    assert json.loads((out / "big_tiled" / "summary.json").read_text())["tiling"]["tiles"] > 1
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in expect:
        assert name in index
    assert "missing_pbf" in index and "file not found" in index
    assert not list(out.rglob(".*.tmp"))

    # a re-run skips what is done and retries what failed
    again = run_regions(specs, out, options=options, client=client, verbose=False)
    st2 = dict(zip(again["region"], again["status"], strict=True))
    assert st2 == {k: ("skipped" if v == "ok" else "failed") for k, v in expect.items()}
    a2 = again.set_index("region")
    assert a2.loc["grid", "elderly_covered_share"] == t.loc["grid", "elderly_covered_share"]

    # a changed input re-runs that region only
    fac = regions_dir / "grid_fac.geojson"
    backup = fac.read_bytes()
    try:
        import geopandas as gpd

        g = gpd.read_file(fac)
        g = g.iloc[:-1]
        g.to_file(fac)
        third = run_regions(specs, out, options=options, client=client, verbose=False)
    finally:
        fac.write_bytes(backup)
    st3 = dict(zip(third["region"], third["status"], strict=True))
    assert st3["grid"] == "ok"
    assert st3["helsinki"] == st3["big_tiled"] == "skipped"
    assert third.set_index("region").loc["grid", "childcare_n_facilities"] == \
        t.loc["grid", "childcare_n_facilities"] - 1
    assert first < 90


def test_cli_batch_starts_its_own_cluster(regions_dir, tmp_path, capsys):
    from care15.cli import main

    text = (regions_dir / "regions.toml").read_text(encoding="utf-8")
    keep = text.split("[[region]]")
    small = keep[0] + "[[region]]" + keep[2] + "[[region]]" + keep[4]  # grid + missing_pbf
    f = regions_dir / "small.toml"
    f.write_text(small, encoding="utf-8")
    code = main(["batch", str(f), "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"])
    assert code == 1  # one region failed; the other finished
    table = pd.read_csv(tmp_path / "o" / "regions.csv", encoding="utf-8-sig")
    assert dict(zip(table["region"], table["status"], strict=True)) == {
        "grid": "ok", "missing_pbf": "failed"}
    bad = regions_dir / "bad.toml"
    bad.write_text('[[region]]\nname = "x"\nwhat = 1\n')
    assert main(["batch", str(bad), "--out", str(tmp_path / "o2"), "--quiet", "--lang", "en"]) == 2
    assert "region 1 ('x'): what: unknown key" in capsys.readouterr().err


def test_run_region_without_a_cluster(regions_dir, tmp_path):
    specs, options = regions_from_toml(regions_dir / "regions.toml")
    spec = next(s for s in specs if s.name == "big_tiled")
    row = run_region(spec, tmp_path / "big", options, input_hash="h")
    assert row["status"] == "ok" and row["tiles"] > 1  # tiles run here, one after another
    marker = json.loads((tmp_path / "big" / DONE_MARKER).read_text())
    assert marker["input_hash"] == "h" and marker["row"]["status"] == "ok"
    broken = next(s for s in specs if s.name == "broken_layer")
    row = run_region(broken, tmp_path / "broken", BatchOptions(cache=False))
    assert row["status"] == "failed" and "broken.geojson" in row["error"]


def test_existing_scheduler_by_address(client, regions_dir, tmp_path):
    specs, options = regions_from_toml(regions_dir / "regions.toml")
    grid = [s for s in specs if s.name == "grid"]
    addr = client.scheduler.address
    assert addr.startswith("tcp://127.0.0.1:")
    table = run_regions(grid, tmp_path / "o", options=options, scheduler=addr, verbose=False)
    assert list(table["status"]) == ["ok"]
    assert len(client.scheduler_info()["workers"]) == 2  # the cluster is left running
    again = run_regions(grid, tmp_path / "o", options=options, scheduler=addr, verbose=False,
                        force=True)
    assert list(again["status"]) == ["ok"]


def test_workers_zero_and_reserved_region_names_are_refused(tmp_path):
    """`--workers 0` used to hang; a region named index.html ended the batch in a traceback."""
    import subprocess
    import sys

    care15 = Path(sys.executable).parent / "care15"
    regions = tmp_path / "r.toml"
    regions.write_text('[[region]]\nname = "a"\n[region.area]\nbbox = [0, 0, 1, 1]\n',
                       encoding="utf-8")
    r = subprocess.run([str(care15), "batch", str(regions), "--workers", "0", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--workers 0: 至少为 1" in r.stderr  # zh: the default
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()
    for name in ("index.html", "regions.csv", "REGIONS.CSV"):
        with pytest.raises(InputError, match="name of a file the batch writes"):
            regions_from_dict({"region": [{"name": name, "area": {"bbox": [0, 0, 1, 1]}}]})


def test_cli_batch_lang(regions_dir, tmp_path, capsys):
    """``--lang`` sets the console, the report and every region's outputs; without it the
    regions file's ``[batch] lang`` (en here) holds."""
    from test_cli import console_problems

    from care15.cli import main

    text = (regions_dir / "regions.toml").read_text(encoding="utf-8")
    keep = text.split("[[region]]")
    f = regions_dir / "lang.toml"
    f.write_text(keep[0] + "[[region]]" + keep[2] + "[[region]]" + keep[4], encoding="utf-8")
    code = main(["batch", str(f), "--out", str(tmp_path / "zh"), "--workers", "1", "--lang",
                 "zh"])
    got = capsys.readouterr()
    assert code == 1  # missing_pbf failed, grid finished
    assert "共 2 个区域: 完成 1 个, 失败 1 个, 跳过 0 个" in got.out
    assert "  失败: missing_pbf: 区域 2 ('missing_pbf') 有误: area.pbf (--pbf): 找不到文件: " \
        in got.out
    assert "输出目录: " in got.out and "regions.csv 和 " in got.out
    assert "  grid: 完成 (" in got.err and "  missing_pbf: 失败 (" not in got.err  # not a task
    assert console_problems(got.out, got.err, "zh") == []
    report = (tmp_path / "zh" / "grid" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in report
    # the file's lang = "en"
    assert main(["batch", str(f), "--out", str(tmp_path / "en"), "--workers", "1"]) == 1
    got = capsys.readouterr()
    assert "2 regions: 1 ok, 1 failed, 0 skipped" in got.out
    assert "  failed: missing_pbf: invalid region 2 ('missing_pbf'): area.pbf (--pbf)" in got.out
    assert console_problems(got.out, got.err, "en") == []
    report = (tmp_path / "en" / "grid" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in report


def test_run_batch_refuses_an_unknown_lang(tmp_path):
    from care15.batch import run_batch

    regions = tmp_path / "r.toml"
    regions.write_text('[[region]]\nname = "a"\n[region.area]\nbbox = [0, 0, 1, 1]\n',
                       encoding="utf-8")
    with pytest.raises(InputError, match="lang: 'fr' is not one of"):
        run_batch(regions, out=tmp_path / "o", lang="fr")
    assert not (tmp_path / "o").exists()
