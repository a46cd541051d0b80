"""Reading a region: empty layers are refused with the flag to change, unless asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import care15
from care15._errors import DataWarning, InputError

CARE15 = Path(sys.executable).parent / "care15"


def _all_nodata_raster(path: Path, bounds: tuple[float, float, float, float]) -> Path:
    import rasterio
    from rasterio.transform import from_bounds

    data = np.full((50, 50), -9999.0, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=50, height=50, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999.0,
                       transform=from_bounds(*bounds, 50, 50)) as dst:
        dst.write(data, 1)
    return path


def test_population_without_residents_is_refused(tmp_path, demo_region):
    tif = _all_nodata_raster(tmp_path / "pop.tif", demo_region.network.bounds_wgs84())
    sc = care15.demo_scenario(inputs__population=tif, inputs__total_population=None)
    with pytest.raises(InputError, match=r"pop.tif \(--population\): no residents"):
        care15.region_from_scenario(sc)
    r = subprocess.run([str(CARE15), "analyze", "--pbf", str(sc.area.pbf), "--facilities",
                        str(sc.inputs.facilities), "--population", str(tif), "--out",
                        str(tmp_path / "o"), "--quiet", "--lang", "en"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "no residents" in r.stderr and "--allow-empty" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_facility_list_without_a_usable_row(tmp_path):
    bad = tmp_path / "设施.csv"
    bad.write_text("名称,类型,经度,纬度\n甲养老院,养老院,,\n乙托育点,托育机构,abc,\n",
                   encoding="utf-8")
    sc = care15.demo_scenario(inputs__facilities=bad)
    with pytest.raises(InputError, match=r"\(--facilities\): no usable facility row \(2 rows"), \
            pytest.warns(DataWarning, match="no usable coordinate"):
        care15.region_from_scenario(sc)
    # asked for: the analysis of a district with no facility runs, every resident a gap
    with pytest.warns(DataWarning, match="no usable coordinate"):
        region = care15.region_from_scenario(sc, allow_empty=True)
    assert len(region.facilities) == 0
    res = care15.analyze(region, sc)
    assert res.summary["categories"]["elderly"]["target_share"] == 0.0
