"""Text from inputs, made safe for where it lands: maps, reports and spreadsheets.

Names of facilities, candidates, communities and scenarios come from other offices' lists and
web-map exports. In a folium map they end up in HTML that folium places inside JavaScript
template literals (tooltips, popups), so ``html.escape`` alone is not enough: ``${...}`` and
backticks would still run. In a spreadsheet a cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is read as a formula (OWASP, "CSV Injection").
"""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["FORMULA_START", "html_text", "spreadsheet_text"]

#: What makes a spreadsheet cell a formula when it starts the text (OWASP CSV-injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# HTML-escaped, then the characters that still mean something inside a JavaScript template
# literal or a JSON string in a <script> block, as numeric character references
_JS_SAFE = str.maketrans({"`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;",
                          "\\": "&#92;", "\u2028": "&#8232;", "\u2029": "&#8233;"})


def html_text(value: object) -> str:
    r"""Text shown in a map or report: inert as HTML, in attributes and in JavaScript strings.

    Parameters
    ----------
    value
        Any value (``str()`` is taken; None and NaN give an empty string).

    Returns
    -------
    str
        HTML with ``& < > " '`` escaped and backticks, ``$ { } \`` as character references, so it
        shows the same text and runs nothing wherever folium places it.

    Examples
    --------
    >>> html_text("养老院 <b>${alert(1)}</b>")
    '养老院 &lt;b&gt;&#36;&#123;alert(1)&#125;&lt;/b&gt;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_JS_SAFE)


def spreadsheet_text(value: Any) -> Any:
    r"""A cell value that a spreadsheet shows as text, never runs as a formula.

    Parameters
    ----------
    value
        A cell value. Text starting with ``= + - @``, a tab or a carriage return gets a
        leading apostrophe (OWASP's advice); numbers, missing values and other text pass.

    Returns
    -------
    object
        The value, neutralised when it is text that would be a formula.

    Examples
    --------
    >>> spreadsheet_text('=HYPERLINK("http://x","y")')
    '\'=HYPERLINK("http://x","y")'
    >>> spreadsheet_text("-12.5"), spreadsheet_text(-12.5)
    ("'-12.5", -12.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
