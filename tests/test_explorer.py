"""The what-if explorer, driven through its callbacks as the browser drives them.

A map click reaches ipyleaflet's ``Map`` as an ``interaction`` message, a marker click as a
``click`` message on the marker, a drag as a new ``location``; the buttons are clicked with
``Button.click()``. After each edit the plan's edit log, the headline panel, the community
table and the cell image must say what ``plan.result()`` says.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

pytest.importorskip("ipyleaflet", reason="needs ipyleaflet (pip install care15[explorer])")
pytest.importorskip("ipywidgets", reason="needs ipywidgets (pip install care15[explorer])")

from helpers import street_case

from care15 import InputError, summary_table
from care15._palette import BAND_COLOURS
from care15.explorer import CellImage, PlanExplorer, band_index
from care15.rates import tlabel


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[:2], 16), int(h[2:4], 16), int(h[4:], 16)


def test_band_index_follows_the_static_maps_rule():
    wm = np.array([0.0, 5.0, 5.0 + 1e-10, 7.2, 15.0, 15.01, np.inf])
    assert band_index(wm, (5.0, 10.0, 15.0)).tolist() == [0, 0, 0, 1, 2, 3, 4]
    assert band_index(wm, (5.0, 10.0, 15.0), has_facility=False).tolist()[-1] == 5


def test_cell_image_of_square_cells_looks_up_the_right_cell():
    from pyproj import Transformer

    _, _, cells, _ = street_case()
    img = CellImage(cells, pixels_per_cell=6)
    (s, w), (n, e) = img.bounds
    ll = cells.to_crs(4326).total_bounds
    assert w <= ll[0] and s <= ll[1] and e >= ll[2] and n >= ll[3]
    # every cell gets pixels, and each pixel's centre lies in the cell it names
    assert set(np.unique(img.index[img.index >= 0])) == set(range(len(cells)))
    ny, nx = img.index.shape
    to_m = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = to_m.transform([w, e], [s, n])
    cx = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    cy = y1 - (np.arange(ny) + 0.5) * (y1 - y0) / ny
    X, Y = np.meshgrid(cx, cy)
    pts = gpd.GeoSeries(gpd.points_from_xy(X.ravel(), Y.ravel()), crs=3857).to_crs(cells.crs)
    inside = img.index.ravel() >= 0
    geoms = cells.geometry.to_numpy()[img.index.ravel()[inside]]
    assert shapely.covers(geoms, pts.to_numpy()[inside]).all()
    # and no pixel outside every cell is marked as inside one
    anywhere = shapely.covers(shapely.union_all(cells.geometry.to_numpy()), pts.to_numpy())
    assert not (anywhere & ~inside & (shapely.distance(
        shapely.union_all(cells.geometry.to_numpy()).boundary, pts.to_numpy()) > 1)).any()


def test_cell_image_of_other_shapes_is_rasterised():
    _, _, cells, _ = street_case()
    blobs = cells.copy()
    blobs["geometry"] = cells.geometry.centroid.buffer(40)  # circles: not on a square grid
    img = CellImage(blobs, pixels_per_cell=8)
    png = img.png(np.arange(len(blobs)) % 3, ["#ff0000", "#00ff00", "#0000ff"])
    got = img.rgb_of_cells(png)
    want = np.array([_rgb(c) for c in ["#ff0000", "#00ff00", "#0000ff"]])[np.arange(20) % 3]
    assert (got == want).all()


@pytest.fixture(scope="module")
def demo():
    import care15

    sc = care15.demo_scenario()
    region = care15.region_from_scenario(sc)
    plan = care15.Plan(region, sc)
    return sc, region, plan


def _worst_cell_lonlat(res, category="elderly"):
    """The populated cell farthest from the category's facilities, as (lat, lon)."""
    c = res.cells[res.cells["pop_60plus"] > 0]
    worst = c.sort_values(f"{category}_walk_min", ascending=False).iloc[[0]]
    p = worst.geometry.centroid.to_crs(4326).iloc[0]
    return float(p.y), float(p.x)


def _assert_shows_the_plan(ex, plan, sc):
    """Panel and image say what plan.result() says."""
    res = plan.result()
    cat = ex.category
    t = sc.targets.coverage_threshold_min
    tab = summary_table(res)
    share = tab[(tab.category == cat) & (tab.threshold_min == t) & tab.target_group]["share"]
    base = summary_table(plan.base)
    before = base[(base.category == cat) & (base.threshold_min == t) & base.target_group]["share"]
    text = re.sub(r"<[^>]+>", "", ex.headline.value)
    assert f"{100 * before.iloc[0]:.1f}% → {100 * share.iloc[0]:.1f}%" in text
    assert f"{len(plan.edits)} " in text
    # the cell colours are the bands of the plan's walking minutes
    thresholds = tuple(float(x) for x in sc.thresholds_min)
    has = res.summary["categories"][cat]["n_facilities"] > 0
    keys = [tlabel(x) for x in thresholds] + ["beyond", "unreachable", "no_facility"]
    band = band_index(res.cells[f"{cat}_walk_min"].to_numpy(float), thresholds, has)
    want = np.array([_rgb(BAND_COLOURS[keys[b]]) for b in band])
    assert (ex.cell_colours() == want).all()
    assert ex.overlay.url.startswith("data:image/png;base64,")
    # the community table: the plan's community coverage, changed communities first
    rows = ex.community_rows()
    col = f"{cat}_cov{tlabel(t)}_{'60plus' if cat == 'elderly' else '0to3'}"
    after = res.communities.set_index("community_id")[col]
    got = rows.set_index("community_id")["after"]
    pd.testing.assert_series_equal(got.sort_index(), after.loc[got.index].sort_index(),
                                   check_names=False)
    changed = rows["changed"].to_numpy()
    assert not (changed[1:] & ~changed[:-1]).any()  # no changed row after an unchanged one
    n_changed = int(changed.sum())
    assert re.search(rf"\b{n_changed}\b", re.sub(r"<[^>]+>", " ", ex.table.value))
    # markers: one per facility of the plan, where it is
    fac = plan.facilities
    assert set(ex.markers) == set(fac["facility_id"].astype(str))
    return res


def test_explorer_edits_follow_the_callbacks(demo):
    sc, region, plan = demo
    ex = PlanExplorer(plan, "elderly", basemap=None)
    assert ex.map.layers[0] is ex.overlay  # no basemap layer to fetch
    base = _assert_shows_the_plan(ex, plan, sc)
    png0 = ex.png
    text0 = ex.headline.value

    # a click in "select" mode adds nothing
    lat, lon = _worst_cell_lonlat(base)
    ex.map._handle_leaflet_event(None, {"event": "interaction", "type": "click",
                                        "coordinates": [lat, lon]}, [])
    assert plan.edits == []

    # the "add" tool: a map click adds an elderly-care point there
    ex.tool.value = "add"
    ex.map._handle_leaflet_event(None, {"event": "interaction", "type": "click",
                                        "coordinates": [lat, lon]}, [])
    assert [e["action"] for e in plan.edits] == ["add"]
    e = plan.edits[0]
    assert e["category"] == "elderly" and e["lon"] == pytest.approx(lon)
    assert e["lat"] == pytest.approx(lat)
    fid = e["facility_id"]
    assert fid in ex.markers and ex.markers[fid].location == pytest.approx([lat, lon], abs=1e-6)
    res = _assert_shows_the_plan(ex, plan, sc)
    assert ex.png != png0 and ex.headline.value != text0
    assert (res.cells["elderly_walk_min"] <= base.cells["elderly_walk_min"] + 1e-9).all()
    assert ex.community_rows()["changed"].iloc[0]  # the change is listed first
    assert ex.last_seconds > 0 and "plan-" in ex.status.value

    # dragging the marker moves the facility
    lat2, lon2 = lat + 0.002, lon - 0.003
    ex.markers[fid].location = [lat2, lon2]
    assert plan.edits[-1]["action"] == "move" and plan.edits[-1]["facility_id"] == fid
    assert plan.edits[-1]["lon"] == pytest.approx(lon2)
    assert plan.edits[-1]["lat"] == pytest.approx(lat2)
    _assert_shows_the_plan(ex, plan, sc)

    # clicking a marker selects it; the capacity box resizes it
    ex.tool.value = "select"
    ex.markers[fid]._handle_mouse_events(None, {"type": "click", "coordinates": [lat2, lon2]},
                                         [])
    assert fid in ex.selected_label.value and not ex.remove_button.disabled
    # an unknown capacity shows as an empty box, not 0; text that is not a number is refused
    assert ex.capacity.value == ""
    n_edits = len(plan.edits)
    ex.capacity.value = "三十"
    ex.set_button.click()
    assert len(plan.edits) == n_edits and "规模须为数字" in ex.status.value
    ex.capacity.value = "30"
    ex.set_button.click()
    assert plan.edits[-1]["action"] == "resize" and plan.edits[-1]["capacity"] == 30
    assert ex.capacity.value == "30"
    fac = plan.facilities.set_index("facility_id")
    assert fac.loc[fid, "beds"] == 30

    # the remove button removes the selected facility: back to the base figures
    ex.remove_button.click()
    assert plan.edits[-1]["action"] == "remove" and fid not in ex.markers
    res = _assert_shows_the_plan(ex, plan, sc)
    np.testing.assert_allclose(res.cells["elderly_walk_min"], base.cells["elderly_walk_min"])
    assert ex.community_rows()["changed"].sum() == 0
    assert (ex.cell_colours() == CellImage(base.cells).rgb_of_cells(png0)).all()

    # undo re-adds it (same id, place and capacity); undo again restores the capacity
    ex.undo_button.click()
    assert plan.edits[-1]["action"] == "add" and plan.edits[-1]["facility_id"] == fid
    fac = plan.facilities.set_index("facility_id")
    assert fac.loc[fid, "beds"] == 30
    _assert_shows_the_plan(ex, plan, sc)
    ex.undo_button.click()
    assert plan.edits[-1]["action"] == "resize"
    assert np.isnan(plan.facilities.set_index("facility_id").loc[fid, "beds"])

    # the category toggle recolours the cells by childcare minutes
    ex.category_buttons.value = "childcare"
    _assert_shows_the_plan(ex, plan, sc)
    assert "托育服务" in ex.headline.value and "托育服务" in ex._legend.title

    # an existing facility: remove it, then undo puts it back
    n_before = len(plan.edits)
    kid = str(region.facilities.query("category == 'childcare'")["facility_id"].iloc[0])
    ex.select(kid)
    ex.remove_button.click()
    assert kid not in ex.markers and len(plan.edits) == n_before + 1
    res = _assert_shows_the_plan(ex, plan, sc)
    assert (res.cells["childcare_walk_min"] >= base.cells["childcare_walk_min"] - 1e-9).all()
    ex.undo()
    assert kid in ex.markers
    res = _assert_shows_the_plan(ex, plan, sc)
    np.testing.assert_allclose(res.cells["childcare_walk_min"], base.cells["childcare_walk_min"])


def test_suggested_sites_load_as_edits(demo):
    import care15
    from care15.siting import suggest_sites

    sc, region, _ = demo
    plan = care15.Plan(region, sc)
    sug = suggest_sites(plan.result(), region.network, sc, "elderly", n_sites=2)
    assert len(sug.sites) >= 1
    ex = PlanExplorer(plan, "elderly", lang="en", basemap=None, sites=sug)
    assert not ex.sites_button.disabled
    ex.sites_button.click()
    adds = [e for e in plan.edits if e["action"] == "add"]
    assert len(adds) == len(sug.sites) and ex.sites_button.disabled
    np.testing.assert_allclose([e["lon"] for e in adds], sug.sites.sort_values("rank")["lon"])
    np.testing.assert_allclose([e["lat"] for e in adds], sug.sites.sort_values("rank")["lat"])
    _assert_shows_the_plan(ex, plan, sc)
    # the plan reaches the rate the suggestion promised
    rows = ex.headline_rows()
    r = rows[(rows.category == "elderly") & (rows.threshold_min == 15)].iloc[0]
    assert r["after"] > r["before"]
    assert r["after"] == pytest.approx(sug.sites["cumulative_coverage"].iloc[-1], abs=0.005)
    assert "Newly covered" in ex.headline.value and "Target group" in ex.headline.value
    # a loaded site is a facility like any other: drag it
    fid = adds[0]["facility_id"]
    ex.move(fid, adds[0]["lat"] + 0.001, adds[0]["lon"])
    assert plan.edits[-1]["action"] == "move" and plan.edits[-1]["facility_id"] == fid
    # one undo takes back the move, the next the whole load
    ex.undo()
    ex.undo()
    assert set(ex.markers) == set(region.facilities["facility_id"].astype(str))
    _assert_shows_the_plan(ex, plan, sc)
    ex.undo()
    assert "Nothing to undo" in ex.status.value


def test_explorer_shows_as_a_widget(demo):
    _, _, plan = demo
    ex = PlanExplorer(plan, "childcare", basemap="osm")
    assert ex.map.layers[0].base and ex.map.layers[1] is ex.overlay  # OSM tiles, then cells
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("PlanExplorer(childcare")
    (s, w), (n, e) = ex.overlay.bounds
    assert s < ex.map.center[0] < n and w < ex.map.center[1] < e
    assert 12 <= ex.map.zoom <= 17
    with pytest.raises(InputError, match="schools"):
        PlanExplorer(plan, "schools")
    with pytest.raises(InputError, match="lang"):
        PlanExplorer(plan, lang="fr")


def test_pixel_centres_interpolate_the_projection_to_well_under_a_metre():
    from pyproj import Transformer

    from care15.explorer import _pixel_centres

    # a 30 km city image at 15 m pixels, over Chengdu's UTM zone
    x0, y1, px, nx, ny = 11_560_000.0, 3_620_000.0, 15.0, 2000, 1990
    X, Y = _pixel_centres("EPSG:32648", x0, y1, px, nx, ny)
    rng = np.random.default_rng(1)
    r, c = rng.integers(0, ny, 500), rng.integers(0, nx, 500)
    ex, ey = Transformer.from_crs(3857, 32648, always_xy=True).transform(
        x0 + (c + 0.5) * px, y1 - (r + 0.5) * px)
    assert np.abs(X[r, c] - ex).max() < 0.01 and np.abs(Y[r, c] - ey).max() < 0.01
