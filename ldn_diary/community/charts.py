"""Plotly figures of a release, built in Python from its stored tables only.

The page embeds them as JSON (json_script) and static/js/community.js draws them with the
vendored plotly.js basic bundle (bar and scatter traces only). A hidden cell gets no bar, just
its mark ("<11", or a dash when withheld) at the foot of its slot, so a chart never shows more
than its table.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
from django.core.serializers.json import DjangoJSONEncoder

COLOURS = {
    "members": "#1f5fa8",
    "substantial": "#1d7a46",
    "moderate": "#6fb38a",
    "below": "#c9a227",
    "not_assessed": "#9aa3b1",
}
_DASH = "—"


def _table(results: dict[str, Any], name: str) -> dict[str, Any] | None:
    for table in results.get("tables", []):
        if table["name"] == name and not table.get("withheld"):
            return table
    return None


def _layout(title: str, y_title: str, top: int) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": 340,
        "autosize": True,
        "margin": {"l": 52, "r": 16, "t": 48, "b": 64},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "yaxis": {
            "title": {"text": y_title},
            # At least 0..11, so that a "<11" mark reads against the axis it is under.
            "range": [0, max(12, round(top * 1.2))],
            "gridcolor": "#e6e9ee",
            "zeroline": True,
            "zerolinecolor": "#8b95a5",
        },
        "xaxis": {"automargin": True},
        "legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
        "bargap": 0.25,
    }


def _bar(x: list[str], values: list[Any], name: str, colour: str) -> go.Bar:
    """A bar per shown number; a hidden one is a bar of no height carrying its mark, so the
    mark sits at the foot of its own slot, also when bars are grouped."""
    shown = [v if isinstance(v, int) else 0 for v in values]
    marks = [_DASH if v is None else str(v) for v in values]
    return go.Bar(
        x=x,
        y=shown,
        name=name,
        marker={"color": colour},
        text=marks,
        textposition="outside",
        cliponaxis=False,
        hovertemplate=f"%{{x}}: %{{text}} ({name.lower()})<extra></extra>",
    )


def dose_band_figure(results: dict[str, Any]) -> dict[str, Any] | None:
    table = _table(results, "members_by_dose_band")
    if table is None:
        return None
    rows = table["rows"][:-1]  # the total row is the sum
    fig = go.Figure(
        _bar(
            [r["label"] for r in rows],
            [r["cells"].get("members") for r in rows],
            "Members",
            COLOURS["members"],
        )
    )
    fig.update_layout(
        **_layout("Members by current dose", "Members", _top(rows, ["members"])),
        showlegend=False,
        template=None,
    )
    return _json(fig)


def response_figure(results: dict[str, Any]) -> dict[str, Any] | None:
    table = _table(results, "pain_response")
    if table is None:
        return None
    weeks = [r["label"] for r in table["rows"]]
    fig = go.Figure()
    labels = {c["key"]: c["label"] for c in table["columns"]}
    for key in ("substantial", "moderate", "below", "not_assessed"):
        fig.add_trace(
            _bar(weeks, [r["cells"].get(key) for r in table["rows"]], labels[key], COLOURS[key])
        )
    fig.update_layout(
        **_layout(
            "Pain response by week of treatment", "Members", _top(table["rows"], list(COLOURS))
        ),
        barmode="group",
        template=None,
    )
    return _json(fig)


def _top(rows: list[dict[str, Any]], keys: list[str]) -> int:
    values = [r["cells"].get(k) for r in rows for k in keys]
    return max([v for v in values if isinstance(v, int)] + [0])


def figures(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(element id, figure) for each chart the release can show."""
    out = []
    for element_id, build in (
        ("dose-figure", dose_band_figure),
        ("response-figure", response_figure),
    ):
        figure = build(results)
        if figure is not None:
            out.append((element_id, figure))
    return out


def _json(fig: go.Figure) -> dict[str, Any]:
    data: dict[str, Any] = fig.to_plotly_json()
    data["layout"].pop("template", None)
    return data


class CompactJSONEncoder(DjangoJSONEncoder):
    """For ``json_script``: no spaces after separators."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


def json_size(figure: dict[str, Any]) -> int:
    return len(json.dumps(figure, separators=(",", ":")).encode())
