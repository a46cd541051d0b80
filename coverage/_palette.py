"""One colour scale for maps, figures and the report.

A cell's band means the same colour everywhere a planner sees it: the interactive map, the PNG
figures and the district report. Bands are walking minutes to the nearest facility of a
category; "beyond" is reachable but over the largest threshold, "unreachable" has no walking
path to any facility, and "no_facility" means the data hold no facility of that category at all.
"""

from __future__ import annotations

#: Walking-minute bands of population cells (keys: threshold minutes as text, then the states).
BAND_COLOURS = {"5": "#1a9850", "10": "#91cf60", "15": "#fee08b", "beyond": "#d73027",
                "unreachable": "#7f7f7f", "no_facility": "#c8c8c8"}
#: Facility categories.
CATEGORY_COLOURS = {"elderly": "#6a3d9a", "childcare": "#1f78b4"}
#: Facility types.
SUBTYPE_COLOURS = {"care_home": "#6a3d9a", "day_care": "#9e67c9", "home_care_centre": "#cab2d6",
                   "canteen": "#b15928", "nursery": "#1f78b4", "kindergarten": "#33a0d6",
                   "community_point": "#a6cee3", "early_education": "#b0b0b0"}
#: Coverage-rate ramp for communities (share of the target group within the threshold).
RATE_STEPS = ((0.5, "#d73027"), (0.7, "#fc8d59"), (0.9, "#fee08b"), (1.01, "#1a9850"))
#: Communities without residents of the target group.
NO_RESIDENTS = "#dddddd"
#: Gap clusters (outlined, dashed) and suggested sites (filled).
GAP_COLOUR = "#b2182b"
SITE_COLOUR = "#e7298a"
#: The light streets drawn for orientation.
STREET_COLOUR = "#8c8c8c"
#: The area the suggested sites newly cover (filled, under the dashed gap outlines: a colour far
#: from the gap red so both read where they overlap).
NEW_COVER_COLOUR = "#1b9e77"
#: Outline of facility markers.
MARKER_EDGE = "#222222"
#: Outlines of residential compounds (小区) by norm status: colours apart from the cell bands
#: (green, yellow, red, grey) they are drawn over.
COMPOUND_COLOURS = {"met": "#2166ac", "short": "#c51b7d", "unknown": "#4d4d4d"}
#: Cells whose coverage a plan changes (``care15 compare``): newly covered, newly uncovered.
CHANGE_COLOURS = {"newly_covered": "#1a9850", "newly_uncovered": "#d73027"}
#: The facilities a plan changes, by kind of edit (marks on the comparison map).
EDIT_COLOURS = {"add": "#1b7837", "move": "#2166ac", "remove": "#b2182b", "resize": "#e08214"}
