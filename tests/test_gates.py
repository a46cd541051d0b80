"""Compound gates (care15.gates): hand-made compounds with worked answers, and the Harbin extract.

The hand-made world (metres, UTM 50N, offset to lie in China so GCJ-02 applies): compound A is
the 500 m square (0, 0)–(500, 500), ringed by a street 10 m outside its outline; one street
runs through it north–south at x = 250, split at the outline (as OSM ways are split at a gate
node). A's gate is at (250, 0), on that street.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from care15._errors import InputError
from care15.chinacoords import from_wgs84
from care15.gates import (
    DETOUR_FACTOR,
    compound_gates,
    compound_minutes,
    compound_points,
    compound_summary,
    gate_distances,
    gate_network,
    points_in_compounds,
    public_street_edges,
)
from care15.network import network_from_edges

UTM = "EPSG:32650"
X0, Y0 = 500_000.0, 3_500_000.0  # about 117.0 E, 31.6 N


def P(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


NODES = {1: (-10, -10), 2: (250, -10), 3: (510, -10), 4: (510, 510), 5: (250, 510),
         6: (-10, 510), 7: (250, 0), 8: (250, 250), 9: (250, 500)}
EDGES = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 1), (2, 7), (7, 8), (8, 9), (9, 5)]


@pytest.fixture(scope="module")
def net():
    rows = [{"u": u, "v": v, "geometry": shapely.LineString([P(*NODES[u]), P(*NODES[v])])}
            for u, v in EDGES]
    return network_from_edges(gpd.GeoDataFrame(rows, crs=UTM), crs=UTM)


def compounds(*extra):
    rows = [("A", "甲小区", shapely.box(*P(0, 0), *P(500, 500)))]
    rows += list(extra)
    return gpd.GeoDataFrame({"compound_id": [r[0] for r in rows], "name": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=UTM)


def gate_nodes(*xy, barrier="gate"):
    return gpd.GeoDataFrame({"osm_id": np.arange(len(xy)) + 100, "barrier": [barrier] * len(xy),
                             "entrance": [""] * len(xy)}, geometry=[shapely.Point(P(*p)) for p in xy],
                            crs=UTM)


def pts(*xy, cid=None):
    g = gpd.GeoDataFrame(geometry=[shapely.Point(P(*p)) for p in xy], crs=UTM)
    if cid is not None:
        g["compound_id"] = cid
    return g


def fac(*xy):
    return gpd.GeoDataFrame({"category": ["elderly"] * len(xy)},
                            geometry=[shapely.Point(P(*p)) for p in xy], crs=UTM).to_crs(4326)


def test_osm_gate_found_and_far_corner_walks_to_it(net):
    comp = compounds()
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((250, 1)))
    assert gates["source"].tolist() == ["osm_gate"]
    assert gates["gate_id"].tolist() == ["A/g1"]
    assert gates.attrs["counts"] == {"osm_gate": 1, "none": 0}
    # a resident in the far corner, a facility just outside the east street beside it
    res = compound_minutes(net, comp, gates, fac((520, 480)),
                           points=pts((480, 480), (260, 20), cid="A"))
    speed = 0.8  # elderly walking speed of the standards
    direct_m = 30 + 10  # to the east street, then to the facility 10 m off it
    gate_m = (DETOUR_FACTOR * np.hypot(230, 479) + 1 + 10  # to the gate, 1 m to its street,
              + 260 + 490 + 10)  # 10 m to node 2, east, north, and off to the facility
    got = res["elderly_walk_min"].to_numpy() * speed * 60
    direct = res["elderly_walk_min_direct"].to_numpy() * speed * 60
    assert direct[0] == pytest.approx(direct_m)
    assert got[0] == pytest.approx(gate_m)
    assert got[0] > 20 * direct[0]
    assert res["elderly_via"].tolist() == ["gate", "gate"]
    assert res["elderly_gate_id"].tolist() == ["A/g1", "A/g1"]


def test_osm_gate_goes_to_the_nearest_outline(net):
    comp = compounds(("C", "丙小区", shapely.box(*P(520, 100), *P(620, 200))))
    # 12 m from C's outline, 8 m from A's: A's gate
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((508, 150)))
    assert gates.loc[gates["source"] == "osm_gate", "compound_id"].tolist() == ["A"]


def test_closed_compound_is_not_crossed(net):
    comp = compounds()
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((250, 0)))
    outside, facility = pts((250, -40)), fac((250, 530))
    closed = gate_distances(gate_network(net, comp, gates), facility, outside)
    opened = gate_distances(gate_network(net, comp, gates, closed_compounds=False), facility,
                            outside)
    # around the ring: 30 m up to the street, 260 + 520 + 260 m round, 20 m off to the door
    assert closed["dist_m"].iat[0] == pytest.approx(30 + 260 + 520 + 260 + 20)
    # through the compound: 30 + 520 (the street through it) + 20
    assert opened["dist_m"].iat[0] == pytest.approx(30 + 520 + 20)
    assert closed["via"].iat[0] == "street" and closed["compound_id"].iat[0] is None
    gn = gate_network(net, comp, gates)
    assert gn.closed.tolist() == [True]
    assert sorted(gn.removed_edges.tolist()) == [7, 8]  # 7-8 and 8-9: inside; 2-7, 9-5 stay


def test_public_street_through_compound_stays_open(net):
    comp = compounds()
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((250, 0)))
    street = gpd.GeoDataFrame(geometry=[shapely.LineString([P(250, -10), P(250, 510)])], crs=UTM)
    keep = public_street_edges(net, ways=street)
    assert np.flatnonzero(keep).tolist() == [6, 7, 8, 9]  # the four pieces of x = 250
    gn = gate_network(net, comp, gates, keep_edges=keep)
    assert gn.closed.tolist() == [True] and len(gn.removed_edges) == 0
    r = gate_distances(gn, fac((250, 530)), pts((250, -40)))
    assert r["dist_m"].iat[0] == pytest.approx(30 + 520 + 20)


def test_facility_inside_closed_compound_reached_through_its_gate(net):
    comp = compounds()
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((250, 0)))
    gn = gate_network(net, comp, gates)
    r = gate_distances(gn, fac((300, 300)), pts((250, -40), (100, 400), cid=[None, "A"]))
    # outside: 30 m to the street, 10 m to the gate, then in along the inner street: 300 m to
    # (250, 300) and 50 m off it to the facility
    assert r["dist_m"].iat[0] == pytest.approx(30 + 10 + 300 + 50)
    assert r["via"].iat[0] == "street"
    # a resident of A walks straight to it inside
    assert r["via"].iat[1] == "inside"
    assert r["dist_m"].iat[1] == pytest.approx(DETOUR_FACTOR * np.hypot(200, 100))


def test_facility_inside_closed_compound_gate_off_the_inner_paths(net):
    # A's only gate is on the west side, where no inner path reaches: the walk in from it is
    # straight × detour
    comp = compounds()
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((0, 250)))
    gn = gate_network(net, comp, gates)
    r = gate_distances(gn, fac((300, 300)), pts((-40, 250)))
    assert r["dist_m"].iat[0] == pytest.approx(30 + 10 + DETOUR_FACTOR * np.hypot(300, 50))


def test_boundary_crossings_are_gates_and_compound_stays_open(net):
    comp = compounds()
    gates = compound_gates(comp, net)
    assert gates["source"].tolist() == ["boundary_crossing", "boundary_crossing"]
    xy = shapely.get_coordinates(gates.geometry.values) - [X0, Y0]
    assert sorted(map(tuple, np.round(xy, 6))) == [(250.0, 0.0), (250.0, 500.0)]
    gn = gate_network(net, comp, gates)
    assert not gn.closed.any() and len(gn.removed_edges) == 0
    assert gates.attrs["notes"] == []


def test_nearest_street_fallback_is_noted(net):
    comp = compounds(("C", "丙小区", shapely.box(*P(550, 100), *P(650, 200))))
    gates = compound_gates(comp, net)
    c = gates.loc[gates["compound_id"] == "C"]
    assert len(c) >= 1 and set(c["source"]) == {"nearest_street"}
    assert (c["street_m"] <= 100).all() and c["street_m"].min() == pytest.approx(40)
    assert any("nearest_street" in n and "丙小区 (C)" in n for n in gates.attrs["notes"])
    assert gates.attrs["counts"]["nearest_street"] == 1


def test_compound_far_from_streets_has_no_gate_and_says_so(net):
    comp = compounds(("D", "远小区", shapely.box(*P(2000, 2000), *P(2300, 2300))))
    gates = compound_gates(comp, net)
    assert "D" not in set(gates["compound_id"])
    assert any("远小区 (D)" in n and "no street within" in n for n in gates.attrs["notes"])


def _gate_csv(tmp_path, rows, coords="wgs84", id_col="小区编号"):
    xy = np.array([P(x, y) for _, x, y in rows])
    ll = gpd.GeoSeries(shapely.points(xy), crs=UTM).to_crs(4326)
    lon, lat = ll.x.to_numpy(), ll.y.to_numpy()
    if coords != "wgs84":
        lon, lat = from_wgs84(lon, lat, coords)
    p = tmp_path / "gates.csv"
    pd.DataFrame({id_col: [r[0] for r in rows], "经度": lon, "纬度": lat}).to_csv(
        p, index=False, encoding="utf-8-sig")
    return p


def test_gate_file_in_gcj02(tmp_path, net):
    comp = compounds()
    p = _gate_csv(tmp_path, [("A", 250, 0)], coords="gcj02")
    gates = compound_gates(comp, net, gates_file=p, coords="gcj02")
    assert gates["source"].tolist() == ["file"]
    assert gates["source_row"].tolist() == [1]
    assert shapely.get_coordinates(gates.geometry.values)[0] == pytest.approx(P(250, 0), abs=0.5)
    assert gate_network(net, comp, gates).closed.tolist() == [True]
    # the same file read as WGS-84 lies hundreds of metres off: refused, with the fix
    with pytest.raises(InputError, match=r"rows \[1\] lie more than 50 m .*--gates-crs gcj02"):
        compound_gates(comp, net, gates_file=p)


def test_gate_file_unknown_compound_names_the_row(tmp_path, net):
    p = _gate_csv(tmp_path, [("A", 250, 0), ("Z9", 250, 500)])
    with pytest.raises(InputError, match=r"rows \[2\] name a compound id .*'Z9'"):
        compound_gates(compounds(), net, gates_file=p)


def test_gate_file_by_compound_name(tmp_path, net):
    p = _gate_csv(tmp_path, [("甲小区", 250, 500)], id_col="小区名称")
    gates = compound_gates(compounds(), net, gates_file=p)
    assert gates[["compound_id", "source"]].values.tolist() == [["A", "file"]]


def test_gate_file_geojson(tmp_path, net):
    p = tmp_path / "gates.geojson"
    gpd.GeoDataFrame({"compound_id": ["A", "A"]},
                     geometry=[shapely.Point(P(250, 0)), shapely.Point(P(250, 500))],
                     crs=UTM).to_crs(4326).to_file(p, driver="GeoJSON")
    gates = compound_gates(compounds(), net, gates_file=p)
    assert gates["gate_id"].tolist() == ["A/g1", "A/g2"]
    assert gates["street_m"].max() < 0.01  # both on the street through A


def test_gate_file_gate_far_from_streets_names_the_row(tmp_path, net):
    comp = compounds(("D", "远小区", shapely.box(*P(2000, 2000), *P(2300, 2300))))
    p = _gate_csv(tmp_path, [("A", 250, 0), ("D", 2000, 2150)])
    with pytest.raises(InputError, match=r"rows \[2\] are gates more than 100 m from any "
                                         "walkable street"):
        compound_gates(comp, net, gates_file=p)


def test_compound_points_grid_and_summary(net):
    comp = compounds(("C", "丙小区", shapely.box(*P(550, 100), *P(560, 110))))
    pts_ = compound_points(comp, spacing_m=100)
    assert (pts_["compound_id"] == "A").sum() == 25  # 5 × 5 points, 100 m apart
    assert (pts_["compound_id"] == "C").sum() == 1  # too small for the grid: one point
    gates = compound_gates(comp, net, osm_nodes=gate_nodes((250, 0)))
    res = compound_minutes(net, comp, gates, fac((520, 480)), points=pts_)
    summ = compound_summary(res, res["weight"].to_numpy())
    a = res.loc[res["compound_id"] == "A", "elderly_walk_min"]
    assert summ.loc["A", "elderly_walk_min"] == pytest.approx(a.mean())
    assert summ.loc["A", "elderly_share_15min"] == pytest.approx((a <= 15).mean())
    assert summ.loc["A", "elderly_share_15min"] < summ.loc["A", "elderly_share_15min_direct"]


def test_points_in_compounds(net):
    comp = compounds(("C", "丙小区", shapely.box(*P(550, 100), *P(650, 200))))
    got = points_in_compounds(pts((10, 10), (600, 150), (-50, -50)), comp)
    assert got.tolist() == ["A", "C", None]


# ---------------------------------------------------------------- real data: Harbin


def _residential(path, net):
    from care15.sources.osm import features

    lu = features(path, {"landuse": ["residential"]})
    lu = lu.loc[np.isin(shapely.get_type_id(lu.geometry.values), (3, 6))].reset_index(drop=True)
    name = lu["name"] if "name" in lu.columns else pd.Series([None] * len(lu))
    return gpd.GeoDataFrame({"compound_id": [f"{t}/{i}" for t, i in zip(lu["osm_type"],
                                                                          lu["osm_id"],
                                                                          strict=True)],
                             "name": name.to_numpy()},
                            geometry=lu.geometry.values, crs=4326).to_crs(net.crs)


@pytest.fixture(scope="module")
def harbin():
    from care15.cache import cached_network
    from care15.gates import osm_gate_nodes

    path = shared_file("osm", "cn", "cn_harbin_central_2026.osm.pbf")
    net = cached_network(path)
    comp = _residential(path, net)
    nodes = osm_gate_nodes(path)
    return path, net, comp, nodes


def test_harbin_compounds_end_to_end(harbin):
    path, net, comp, nodes = harbin
    # SOURCES.md counts 1,648 landuse=residential ways and relations and 117 gates; the reader
    # keeps those with an area geometry and gates that are nodes
    assert 1600 <= len(comp) <= 1648
    assert 110 <= (nodes["barrier"] == "gate").sum() <= 117
    gates = compound_gates(comp, net, osm_nodes=nodes)
    counts = gates.attrs["counts"]
    assert sum(counts.values()) == len(comp)
    mapped = counts.get("osm_gate", 0) + counts.get("osm_entrance", 0)
    assert 10 <= mapped <= 117 + 18
    # most Harbin outlines are drawn between streets with no way inside: only compounds that a
    # street enters have crossings, and the rest fall back to the nearest street (noted)
    tree = shapely.STRtree(net.edge_geometry)
    entered = len(np.unique(tree.query(shapely.buffer(comp.geometry.values, -2.0),
                                       predicate="intersects")[0]))
    assert 100 < counts["boundary_crossing"] <= entered
    assert counts["nearest_street"] > 0
    assert any(n.startswith(f"{counts['nearest_street']} compounds have no mapped gate")
               for n in gates.attrs["notes"])
    # every OSM gate kept lies within 20 m of its compound's outline
    og = gates.loc[gates["source"].isin(["osm_gate", "osm_entrance"])]
    outline = shapely.boundary(comp.set_index("compound_id").geometry.loc[og["compound_id"]]
                               .values)
    assert (shapely.distance(og.geometry.values, outline) <= 20 + 1e-6).all()
    # facilities at 80 random nodes of the main piece, as a planner's list would put them
    rng = np.random.default_rng(7)
    main = np.flatnonzero(net.component == 0)
    pick = rng.choice(main, 80, replace=False)
    f = gpd.GeoDataFrame({"category": np.where(np.arange(80) % 2, "elderly", "childcare")},
                         geometry=shapely.points(net.x[pick], net.y[pick]), crs=net.crs)
    pts = compound_points(comp)
    res = compound_minutes(net, comp, gates, f, points=pts)
    gn = gate_network(net, comp, gates)
    assert gn.closed.sum() == mapped and res.attrs["closed_compounds"] == mapped
    # no public street (tertiary and up, unclassified) is closed
    public = public_street_edges(net, path)
    assert public.sum() > 1000
    kept = gate_network(net, comp, gates, keep_edges=public)
    assert not public[kept.removed_edges].any()
    assert len(kept.removed_edges) <= len(gn.removed_edges)
    # removed edges all lie inside a closed compound
    closed_poly = shapely.union_all(comp.geometry.values[gn.closed])
    assert shapely.within(net.edge_geometry[gn.removed_edges],
                          shapely.buffer(closed_poly, 2.0)).all()
    for cat in ("elderly", "childcare"):
        m = res[f"{cat}_walk_min"].to_numpy()
        assert np.isfinite(m).mean() > 0.95
        assert set(res[f"{cat}_via"]) <= {"gate", "inside", "street", "none"}
    # the compound's residents through the gate never beat the straight walk to that gate
    r = gate_distances(gn, f.loc[f["category"] == "elderly"])
    g = r["via"] == "gate"
    assert (r.loc[g, "dist_m"] >= r.loc[g, "walk_in_m"]).all()
    assert res.attrs["seconds"] < 120
    # per compound: every compound has points and the shares are shares
    summ = compound_summary(res, res["weight"].to_numpy())
    assert len(summ) == len(comp) and (summ["points"] >= 1).all()
    for col in ("elderly_share_15min", "childcare_share_15min_direct"):
        assert summ[col].between(0, 1).all()


# --------------------------------------------------------------------------------------------
# the gates in the run: a hand-made OSM world through `care15 analyze`
# --------------------------------------------------------------------------------------------
#
# Compound A is the 500 m square of the module docstring, inside a public ring street
# (tertiary) 10 m off its outline; its own street (service) runs north-south through it from
# its one gate at (250, 0). Compound B lies south of the ring, (260, -120)-(360, -20), its gate
# on its west side at (260, -70), 10 m from a public street south from the ring at x = 250.
# The elderly-care centre is 20 m north of the ring at (250, 530), the childcare centre 10 m
# east of it at (520, 480), beside A's far (north-east) corner.

WORLD_NODES = {1: (-10, -10), 2: (250, -10), 3: (510, -10), 4: (510, 510), 5: (250, 510),
               6: (-10, 510), 7: (250, 0), 8: (250, 250), 9: (250, 500), 10: (250, -200)}
WORLD_WAYS = [([1, 2, 3, 4, 5, 6, 1], "tertiary"), ([2, 10], "tertiary"),
              ([2, 7, 8, 9, 5], "service")]


def _world(tmp_path):
    to_ll = gpd.GeoSeries(shapely.points([P(*xy) for xy in WORLD_NODES.values()]),
                          crs=UTM).to_crs(4326)
    nodes = [f'<node id="{k}" lat="{g.y:.9f}" lon="{g.x:.9f}" version="1"/>'
             for k, g in zip(WORLD_NODES, to_ll, strict=True)]
    ways = [f'<way id="{100 + i}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs)
            + f'<tag k="highway" v="{hw}"/></way>' for i, (refs, hw) in enumerate(WORLD_WAYS)]
    osm = tmp_path / "world.osm"
    osm.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
                   + "\n".join(nodes + ways) + "\n</osm>\n", encoding="utf-8")
    comp = gpd.GeoDataFrame({"compound_id": ["A", "B"], "name": ["甲小区", "乙小区"],
                             "户数": [400, 200], "建成年份": [2010, 2024]},
                            geometry=[shapely.box(*P(0, 0), *P(500, 500)),
                                      shapely.box(*P(260, -120), *P(360, -20))],
                            crs=UTM).to_crs(4326)
    cfile = tmp_path / "小区.geojson"
    comp.to_file(cfile)
    gfile = _gate_csv(tmp_path, [("A", 250, 0), ("B", 260, -70)], coords="gcj02")
    fll = gpd.GeoSeries(shapely.points([P(250, 530), P(520, 480)]), crs=UTM).to_crs(4326)
    ffile = tmp_path / "设施.csv"
    pd.DataFrame({"机构名称": ["北养老中心", "东托育园"], "类型": ["日间照料中心", "托育机构"],
                  "经度": fll.x.round(8), "纬度": fll.y.round(8), "建筑面积": [300, 400],
                  "托位": ["", 40]}).to_csv(ffile, index=False, encoding="utf-8-sig")
    return osm, cfile, gfile, ffile


def _analyze(tmp_path, name, *extra):
    import json

    from care15.cli import main

    osm, cfile, gfile, ffile = _world(tmp_path)
    out = tmp_path / name
    rc = main(["analyze", "--osm", str(osm), "--facilities", str(ffile), "--compounds",
               str(cfile), "--gates", str(gfile), "--gates-crs", "gcj02", "--out", str(out),
               "--lang", "en", "-q", "--no-cache", *extra])
    assert rc == 0
    table = pd.read_csv(out / "compounds.csv", encoding="utf-8-sig").set_index("compound_id")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return table, summary, out


@pytest.fixture(scope="module")
def world_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("world")
    return _analyze(d, "closed"), _analyze(d, "open", "--open-compounds")


def test_run_far_corner_walks_to_the_gate(world_runs):
    from care15.scenario import Scenario

    (t, s, _), _ = world_runs
    speed = Scenario().speed_for("childcare")
    # A's residents: a 50 m grid over the square (compound_points), each walking straight ×
    # detour to the gate at (250, 0), then 10 m to node 2, 260 m east, 490 m north and 10 m
    # off the ring to the childcare centre: the far corner walks the longest
    g = np.arange(25, 500, 50.0)
    gx, gy = np.meshgrid(g, g)
    expect_m = DETOUR_FACTOR * np.hypot(gx - 250, gy) + 10 + 260 + 490 + 10
    assert t.loc["A", "childcare_walk_min"] == pytest.approx(expect_m.mean() / speed / 60,
                                                             rel=1e-3)
    # without gates the residents near the east side step onto the ring beside the centre
    assert t.loc["A", "childcare_walk_min_direct"] < t.loc["A", "childcare_walk_min"] - 3
    assert t.loc["A", "childcare_gate_id"] == "A/g1" and t.loc["B", "childcare_gate_id"] == "B/g1"
    assert t.loc["A", "gate_source"] == "file" and bool(t.loc["A", "gates_mapped"])
    assert t.loc["A", "gates"] == 1
    share = (expect_m / speed / 60 <= 15).mean()
    assert t.loc["A", "childcare_share_covered"] == pytest.approx(share)
    c = s["compounds"]
    assert c["compounds"] == 2 and c["with_mapped_gates"] == 2 and c["mapped_gates_share"] == 1
    assert c["by_gate_source"] == {"file": 2}
    # closed: A's inner street (two edges) is taken out; 100 grid points in A, 4 in B
    assert (c["compounds_closed"], c["edges_closed"], c["resident_points"]) == (2, 2, 104)
    assert c["childcare"]["median_walk_min"] > c["childcare"]["median_walk_min_direct"]
    assert any("Compound gates: 2 gates; 2 of 2 compounds" in n for n in s["notes"])


def test_run_closed_compound_is_not_crossed(world_runs):
    from care15.scenario import Scenario

    (closed, sc, _), (opened, so, _) = world_runs
    speed = Scenario().speed_for("elderly")
    # B's residents (four grid points) walk to their gate, 10 m to the street, 60 m north to
    # the ring; open, on through A (520 m); closed, A's inner street is no through route: round
    # the ring (260 + 520 + 260 m); then 20 m to the centre
    home = DETOUR_FACTOR * np.hypot(np.array([275, 275, 325, 325]) - 260,
                                    np.array([-75, -25, -75, -25]) + 70).mean()
    for t, ring in ((opened, 520), (closed, 1040)):
        assert t.loc["B", "elderly_walk_min"] * speed * 60 == pytest.approx(
            home + 10 + 60 + ring + 20, rel=1e-3)
    assert closed.loc["B", "elderly_walk_min_direct"] == pytest.approx(
        opened.loc["B", "elderly_walk_min_direct"])  # no gates, nothing closed: the same
    assert sc["compounds"]["closed_compounds"] is True
    assert so["compounds"]["closed_compounds"] is False
    # the norm verdicts use the gate minutes: open, the centre (300 m²) is within 15 minutes of
    # B through its gate and serves it (150 m² per 100 households: met); closed, it is not,
    # though the direct walk (no gates) would be
    assert bool(opened.loc["B", "elderly_covered"]) and opened.loc["B", "elderly_serving"] == "f1"
    assert opened.loc["B", "elderly_norm_status"] == "met"
    assert opened.loc["B", "elderly_area_m2_per_100_households"] == pytest.approx(150)
    assert not closed.loc["B", "elderly_covered"] and pd.isna(closed.loc["B", "elderly_serving"])
    assert closed.loc["B", "elderly_norm_status"] == "short"
    assert bool(closed.loc["B", "elderly_covered_direct"])


def _run_world(tmp_path, *argv):
    from care15.cli import _scenario, build_parser
    from care15.pipeline import RunOptions, run

    sc = _scenario(build_parser().parse_args(["analyze", *argv]))
    return run(sc, tmp_path / "out", options=RunOptions(maps=False, figures=False,
                                                        report=False, cache=False))


def test_run_refuses_bad_gate_files(tmp_path):
    osm, cfile, _, ffile = _world(tmp_path)
    base = ["--osm", str(osm), "--facilities", str(ffile), "--compounds", str(cfile)]
    no_xy = tmp_path / "无坐标.csv"
    pd.DataFrame({"小区编号": ["A"], "地址": ["南门"]}).to_csv(no_xy, index=False)
    with pytest.raises(InputError, match=r"无坐标\.csv: no longitude/latitude columns.*"
                                         r"columns are \['小区编号', '地址'\].*--gates-crs"):
        _run_world(tmp_path, *base, "--gates", str(no_xy))
    no_comp = tmp_path / "无小区.csv"
    pd.DataFrame({"经度": [117.0], "纬度": [31.6]}).to_csv(no_comp, index=False)
    with pytest.raises(InputError, match=r"无小区\.csv: no compound column.*--gates"):
        _run_world(tmp_path, *base, "--gates", str(no_comp))
    # a compound far from the streets, its listed gate on its outline 190 m from the ring
    far = gpd.GeoDataFrame({"compound_id": ["A", "C"], "户数": [400, 100]},
                           geometry=[shapely.box(*P(0, 0), *P(500, 500)),
                                     shapely.box(*P(700, 700), *P(900, 900))],
                           crs=UTM).to_crs(4326)
    cfar = tmp_path / "远.geojson"
    far.to_file(cfar)
    gfar = _gate_csv(tmp_path, [("A", 250, 0), ("C", 700, 800)])
    with pytest.raises(InputError, match=r"gates\.csv: rows \[2\] are gates more than 100 m "
                                         "from any walkable street"):
        _run_world(tmp_path, "--osm", str(osm), "--facilities", str(ffile), "--compounds",
                   str(cfar), "--gates", str(gfar))
    # GCJ-02 gates declared WGS-84: off their outlines, the message names --gates-crs
    gcj = _gate_csv(tmp_path, [("A", 250, 0), ("B", 260, -70)], coords="gcj02")
    with pytest.raises(InputError, match=r"rows \[1, 2\] lie more than 50 m from the outline.*"
                                         "--gates-crs gcj02"):
        _run_world(tmp_path, *base, "--gates", str(gcj))


def test_scenario_and_flags_for_gates(tmp_path):
    from care15._errors import ScenarioError
    from care15.cli import _scenario, build_parser
    from care15.scenario import Compounds, Scenario, scenario_from_toml

    osm, cfile, gfile, _ = _world(tmp_path)
    assert Compounds().closed is True and Compounds().gates is None
    assert Compounds().detour_factor == DETOUR_FACTOR == 1.3
    sc = _scenario(build_parser().parse_args(
        ["analyze", "--osm", str(osm), "--compounds", str(cfile), "--gates", str(gfile),
         "--gates-crs", "gcj02", "--open-compounds"]))
    assert (sc.compounds.gates, sc.compounds.gates_crs, sc.compounds.closed) == (
        gfile, "gcj02", False)
    sc = _scenario(build_parser().parse_args(["analyze", "--osm", str(osm), "--compounds",
                                              str(cfile)]))
    assert sc.compounds.closed is True
    toml = tmp_path / "s.toml"
    toml.write_text(f'[area]\nosm = "{osm.name}"\n[compounds]\nfile = "{cfile.name}"\n'
                    f'gates = "{gfile.name}"\ngates_crs = "gcj02"\nclosed = false\n'
                    'detour_factor = 1.5\n', encoding="utf-8")
    c = scenario_from_toml(toml).compounds
    assert (c.gates, c.gates_crs, c.closed, c.detour_factor) == (gfile, "gcj02", False, 1.5)
    with pytest.raises(ScenarioError) as e:
        Scenario(compounds=Compounds(gates=tmp_path / "无.csv", gates_crs="utm",
                                     detour_factor=0.8))
    for part in ("a gate file needs the compounds", "compounds.gates (--gates): file not found",
                 "compounds.gates_crs (--gates-crs): 'utm'", "detour_factor: 0.8 is not in"):
        assert part in str(e.value)


def test_run_in_chinese_translates_compound_values_and_notes(tmp_path):
    from care15.cli import main

    osm, cfile, gfile, ffile = _world(tmp_path)
    out = tmp_path / "zh"
    assert main(["analyze", "--osm", str(osm), "--facilities", str(ffile), "--compounds",
                 str(cfile), "--gates", str(gfile), "--gates-crs", "gcj02", "--out", str(out),
                 "--lang", "zh", "-q", "--no-cache", "--open-compounds"]) == 0
    book = pd.read_excel(out / "compounds.xlsx", sheet_name=None)
    t = book["小区清单"].set_index("小区编号")
    assert t.loc["B", "养老配建达标情况"] == "达标" and t.loc["A", "养老配建达标情况"] == "不足"
    assert set(t["出入口来源"]) == {"出入口清单"} and set(t["出入口为实测"]) == {"是"}
    assert t.loc["A", "适用标准"] == "既有" and t.loc["B", "适用标准"] == "新建"
    assert t.loc["A", "前往托育设施所用出入口"] == "A/g1"
    short = pd.read_excel(out / "short_compounds.xlsx", sheet_name="未达标小区")
    assert set(short["配建达标情况"]) <= {"不足", "达标", "未知"}
    assert set(short["缺口单位"]) <= {"平方米", "托位"}
    import json

    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any(n.startswith("小区出入口: 共 2 个; 2 个小区中 2 个(100%)有实测出入口(gates.csv)")
               and "允许穿行" in n for n in s["notes_zh"])


def test_map_draws_compounds_by_status_and_their_gates(world_runs):
    (_, _, closed), (_, _, opened) = world_runs
    shut = (closed / "map.html").read_text(encoding="utf-8")
    assert "Compounds (by norm status)" in shut and "Compound gates" in shut
    assert "a norm short (2)" in shut and "all norms met" not in shut
    assert "mapped gate (list or OSM) (2)" in shut and "inferred gate" not in shut
    # open, B meets the elderly-care norm through its gate but its childcare walk is too long
    page = (opened / "map.html").read_text(encoding="utf-8")
    assert "a norm short (2)" in page
    assert "\\u4e59\\u5c0f\\u533a" in page or "乙小区" in page  # the popup names it
    assert "via gates" in page and "without gates" in page


def test_map_compound_states_from_the_table():
    from care15.maps import _compound_state

    cats = ["elderly", "childcare"]
    row = pd.Series({"elderly_norm_status": "met", "elderly_covered": True,
                     "childcare_norm_status": "exempt", "childcare_covered": True})
    assert _compound_state(row, cats) == "met"
    assert _compound_state(row.replace({True: False}), cats) == "short"  # outside the circle
    row2 = row.copy()
    row2["childcare_norm_status"] = "unknown"
    assert _compound_state(row2, cats) == "unknown"
    row2["elderly_norm_status"] = "short"
    assert _compound_state(row2, cats) == "short"


def test_minutes_by_compound_weights_modes_and_unreachable():
    from care15.gates import minutes_by_compound

    per_point = pd.DataFrame({
        "compound_id": ["A", "A", "A", "B", None],
        "weight": [1.0, 1.0, 2.0, 5.0, 9.0],
        "elderly_walk_min": [10.0, 20.0, np.inf, np.inf, 1.0],
        "elderly_walk_min_direct": [5.0, 5.0, 8.0, 30.0, 1.0],
        "elderly_via": ["gate", "gate", "gate", "none", "street"],
        "elderly_gate_id": ["A/g1", "A/g2", "A/g2", None, None],
        "elderly_facility_id": ["f1", "f2", None, None, "f9"]})
    gates = pd.DataFrame({"compound_id": ["A", "A", "C"],
                          "source": ["osm_gate", "osm_gate", "nearest_street"]})
    r = minutes_by_compound(per_point, gates, ["A", "B", "C"], threshold_min=15)
    # A: mean over the points that reach a facility (weights 1, 1); the unreachable one
    # counts against the share within 15 minutes (1 of 4 weight units)
    assert r.loc["A", "elderly_walk_min"] == pytest.approx(15.0)
    assert r.loc["A", "elderly_walk_min_direct"] == pytest.approx((5 + 5 + 16) / 4)
    assert r.loc["A", "elderly_share_covered"] == pytest.approx(0.25)
    assert r.loc["A", "elderly_gate_id"] == "A/g2"  # 3 weight units leave by g2, 1 by g1
    assert r.loc["A", "elderly_nearest_facility"] == "f1"  # a tie: the first id
    # B: its only point reaches nothing: unreachable; C: no resident point at all
    assert np.isinf(r.loc["B", "elderly_walk_min"]) and r.loc["B", "elderly_share_covered"] == 0
    assert np.isnan(r.loc["C", "elderly_walk_min"])
    assert r["gate_source"].tolist() == ["osm_gate", "none", "nearest_street"]
    assert r["gates_mapped"].tolist() == [True, False, False]
    assert r["gates"].tolist() == [2, 0, 1]
