"""PNG charts of report frames, drawn with matplotlib's Agg canvas (no display, no pyplot).

Each function takes the frame its report returned, a file name or binary file, and a
title, and writes one PNG; an empty frame gives a chart saying "no data". Several tenants
or queues are summed where a chart shows totals.
"""

from __future__ import annotations

from typing import IO

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["abandons", "dispositions", "geography", "queue_intervals", "trends"]

Out = str | IO[bytes]


def _figure(rows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(10, 3.2 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    return fig, axes


def _save(fig: Figure, out: Out, title: str) -> None:
    fig.suptitle(title)
    fig.savefig(out, format="png", dpi=100)


def _no_data(out: Out, title: str) -> None:
    fig, (ax,) = _figure()
    ax.text(0.5, 0.5, "no data", ha="center", va="center", fontsize=14)
    ax.set_axis_off()
    _save(fig, out, title)


def _times(iso: pd.Series) -> pd.Series:
    """ISO 8601 UTC strings as naive UTC datetime64, which matplotlib plots as dates."""
    return pd.to_datetime(iso, utc=True).dt.tz_convert(None)


def queue_intervals(frame: pd.DataFrame, out: Out, *, title: str = "queue-intervals") -> None:
    """Offered and answered per interval (all queues) above each queue's service level."""
    if frame.empty:
        return _no_data(out, title)
    fig, (volume, sl) = _figure(2)
    totals = frame.groupby("interval_start")[["offered", "answered"]].sum()
    x = _times(pd.Series(totals.index))
    volume.plot(x, totals.offered, marker="o", label="offered")
    volume.plot(x, totals.answered, marker="o", label="answered")
    volume.set_ylabel("contacts")
    volume.legend()
    for (tenant, queue), rows in frame.groupby(["tenant", "queue_id"]):
        sl.plot(_times(rows.interval_start), rows.service_level, marker=".", label=f"{tenant}/{queue}")
    sl.set_ylim(0, 1.05)
    sl.set_ylabel("service level")
    sl.legend(fontsize="small")
    _save(fig, out, title)


def trends(frame: pd.DataFrame, out: Out, *, title: str = "trends") -> None:
    """Bars of offered, answered and abandoned by hour or weekday (all queues)."""
    if frame.empty:
        return _no_data(out, title)
    key = "hour" if "hour" in frame.columns else "weekday"
    totals = frame.groupby(key)[["offered", "answered", "abandoned"]].sum().sort_index()
    labels = [str(k) for k in totals.index]
    if key == "weekday":
        names = frame.drop_duplicates(key).set_index(key).weekday_name
        labels = [str(names[k]) for k in totals.index]
    fig, (ax,) = _figure()
    width = 0.27
    positions = range(len(totals))
    for i, column in enumerate(totals.columns):
        ax.bar([p + (i - 1) * width for p in positions], totals[column], width, label=column)
    ax.set_xticks(list(positions), labels)
    ax.set_xlabel(key)
    ax.set_ylabel("contacts")
    ax.legend()
    _save(fig, out, title)


def abandons(frame: pd.DataFrame, out: Out, *, title: str = "abandons") -> None:
    """A histogram of waits before abandoning (all queues), short abandons marked."""
    if frame.empty:
        return _no_data(out, title)
    totals = frame.groupby(["from_s", "wait_bucket"], sort=True)[["abandoned", "short_abandoned"]].sum()
    labels = [label for _, label in totals.index]
    fig, (ax,) = _figure()
    ax.bar(labels, totals.abandoned - totals.short_abandoned, label="abandoned (not short)")
    ax.bar(labels, totals.short_abandoned, bottom=totals.abandoned - totals.short_abandoned,
           label="short abandons")  # fmt: skip
    ax.set_xlabel("wait before abandoning (s)")
    ax.set_ylabel("contacts")
    ax.legend()
    _save(fig, out, title)


def _top(ax: Axes, series: pd.Series, xlabel: str) -> None:
    series = series.sort_values().tail(15)
    ax.barh([str(i) for i in series.index], series.to_numpy())
    ax.set_xlabel(xlabel)


def geography(frame: pd.DataFrame, out: Out, *, title: str = "geography") -> None:
    """The top countries by contacts; the top regions when the callers are all of one country."""
    if frame.empty:
        return _no_data(out, title)
    fig, (ax,) = _figure()
    if frame.country.nunique() > 1:
        _top(ax, frame.groupby("country")["contacts"].sum(), "contacts")
    else:
        _top(ax, frame.groupby("region")["contacts"].sum(), f"contacts ({frame.country.iloc[0]}, by region)")
    _save(fig, out, title)


def dispositions(frame: pd.DataFrame, out: Out, *, title: str = "dispositions") -> None:
    """Handled contacts by disposition (all queues)."""
    if frame.empty:
        return _no_data(out, title)
    fig, (ax,) = _figure()
    _top(ax, frame.groupby("disposition")["handled"].sum(), "handled contacts")
    _save(fig, out, title)
