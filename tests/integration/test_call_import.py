"""`ccx import calls`: the real Anonymous Bank log (Guedj & Mandelbaum, Technion SEE lab; see
../shared/data/README.md) through the shipped mapping, and the quirks of bad rows.

The daily queue report over the imported history is checked against an independent pandas
computation straight from the TSV file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.call_import import MappingError, load_mapping, read_calls
from ccx.cli import main

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT.parent / "shared/data/anonymous_bank/anonymous_bank_1999_02.tsv"
MAPPING = ROOT / "analytics/mappings/anonymous_bank.yaml"


def ccx(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def bank_frame() -> pd.DataFrame:
    """The TSV as pandas reads it, with the mapping's rules applied independently."""
    df = pd.read_csv(BANK, sep="\t", dtype={"date": str})
    df.columns = [c.strip() for c in df.columns]
    df = df[(df.outcome != "PHANTOM") & (df.vru_time >= 0)].copy()
    names = {
        "PS": "regular",
        "PE": "regular-english",
        "IN": "internet",
        "NE": "stock-exchange",
        "NW": "prospect",
        "TT": "callback",
    }
    df["queue_id"] = df["type"].map(names)
    local = pd.to_datetime(df["date"] + " " + df["vru_entry"], format="%y%m%d %H:%M:%S")
    arrival = local.dt.tz_localize("Asia/Jerusalem").dt.tz_convert("UTC")
    df["queued_at"] = arrival + pd.to_timedelta(df["vru_time"], unit="s")
    df["queued"] = (df.outcome == "AGENT") | (df.q_time > 0)
    return df


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    data = tmp_path_factory.mktemp("bank")
    rejects = data / "rejects.csv"
    code, out = ccx(
        "import",
        "calls",
        str(BANK),
        "--mapping",
        str(MAPPING),
        "--data-dir",
        str(data),
        "--rejects",
        str(rejects),
        "--json",
    )
    assert code == 0, out
    return data, json.loads(out.splitlines()[-1])


def test_the_bank_log_imports_with_every_rejected_row_named(imported: tuple[Path, dict[str, object]]) -> None:
    data, summary = imported
    raw = pd.read_csv(BANK, sep="\t")
    raw.columns = [c.strip() for c in raw.columns]
    phantom = int((raw.outcome == "PHANTOM").sum())
    negative = int(((raw.outcome != "PHANTOM") & (raw.vru_time < 0)).sum())
    assert summary["rows"] == len(raw) == 33_344
    assert summary["rejected_by_reason"] == {"negative duration": negative, "skipped outcome": phantom}
    df = bank_frame()
    assert summary["imported"] == len(df)
    assert summary["outcomes"] == {
        "answered": int((df.outcome == "AGENT").sum()),
        "abandoned": int(((df.outcome == "HANG") & (df.q_time > 0)).sum()),
        "ended_in_ivr": int(((df.outcome == "HANG") & (df.q_time == 0)).sum()),
    }
    assert summary["notes"] == {
        "answered without an agent named": int(
            ((df.outcome == "AGENT") & (df.server.str.strip() == "NO_SERVER")).sum()
        )
    }
    rejects = pd.read_csv(data / "rejects.csv")
    assert len(rejects) == phantom + negative
    assert rejects.reason.str.startswith(("skipped outcome: PHANTOM", "negative duration: vru_time=-")).all()


def test_the_daily_report_equals_pandas_on_the_file(imported: tuple[Path, dict[str, object]]) -> None:
    data, _ = imported
    code, out = ccx(
        "report", "queue-intervals", "--data-dir", str(data), "--interval", "24h", "--format", "json"
    )
    assert code == 0, out
    report = pd.DataFrame(json.loads(out))
    report = report[report.tenant == "anonymous-bank"]
    df = bank_frame()
    q = df[df.queued].copy()
    q["interval_start"] = q["queued_at"].dt.floor("D").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    short = (q.outcome == "HANG") & (q.q_time <= 5)
    q["answered"] = q.outcome == "AGENT"
    q["abandoned"] = (q.outcome == "HANG") & ~short
    q["short"] = short
    q["answered_in_sl"] = q["answered"] & (q.q_time <= 20)
    expected = (
        q.groupby(["queue_id", "interval_start"])
        .agg(
            answered=("answered", "sum"),
            abandoned=("abandoned", "sum"),
            short_abandoned=("short", "sum"),
            answered_in_sl=("answered_in_sl", "sum"),
        )
        .reset_index()
    )
    expected["offered"] = expected.answered + expected.abandoned
    got = report.set_index(["queue_id", "interval_start"])[
        ["offered", "answered", "abandoned", "short_abandoned", "answered_in_sl"]
    ]
    want = expected.set_index(["queue_id", "interval_start"])[got.columns]
    assert len(got) == len(want) > 100
    pd.testing.assert_frame_equal(got.sort_index().astype("int64"), want.sort_index().astype("int64"))


def test_importing_the_same_file_again_is_refused(imported: tuple[Path, dict[str, object]]) -> None:
    data, _ = imported
    code, out = ccx("import", "calls", str(BANK), "--mapping", str(MAPPING), "--data-dir", str(data))
    assert code == 1 and "is already in the log" in out and "nothing appended" in out


def test_bad_rows_are_rejected_with_the_reason_and_midnight_wraps(tmp_path: Path) -> None:
    rows = [
        "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver",
        "AA01\t1\t0\t2\tPS\t990201\t23:59:50\t0:00:00\t10\t0:00:00\t0:00:30\t30\tAGENT\t0:00:30\t0:01:30\t60\tDORIT",
        "AA01\t2\t0\t0\tPS\t990201\t25:61:00\t0:00:00\t10\t0:00:00\t0:00:00\t0\tAGENT\t0:00:00\t0:00:00\t5\tDORIT",
        "AA01\t3\t0\t0\tPS\t990201\t8:00:00\t8:00:10\t10\t0:00:00\t0:00:00\t0\tBUSY\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA01\t1\t0\t0\tPS\t990201\t9:00:00\t9:00:10\t10\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA01\t4\t0\t0\tPS\t9902xx\t9:00:00\t9:00:10\t10\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA01\t5\t0\t0\tPS\t990201\t9:00:00\t9:00:10\tten\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    ]
    log = tmp_path / "calls.tsv"
    log.write_text("\r\n".join(rows) + "\r\n")
    report, messages = read_calls(log, load_mapping(MAPPING))
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (3, "bad time"),
        (4, "unknown outcome"),
        (5, "duplicate id"),
        (6, "bad date"),
        (7, "bad IVR time"),
    ]
    assert report.imported == 1
    times = {
        type(m.body).__name__: m.envelope.occurred_at
        for m in messages
        if m.envelope.correlation_id == "ab-AA01-1"
    }
    # 23:59:50 Israel time (UTC+2) on 1 Feb; service ends 100 s later, past local midnight
    assert times["ContactConnected"] - times["ContactArrived"] == 40_000
    assert times["ContactEnded"] - times["ContactArrived"] == 100_000
    assert (
        pd.Timestamp(times["ContactArrived"], unit="ms", tz="UTC").isoformat() == "1999-02-01T21:59:50+00:00"
    )


def test_a_bad_mapping_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("columns: {id: call_id, date: date, arrival: vru_entry}\noutcomes: {AGENT: answered}\n")
    with pytest.raises(MappingError, match="columns must name outcome"):
        load_mapping(bad)
    bad.write_text(
        "columns: {id: a, date: b, arrival: c, outcome: d}\n"
        "outcomes: {AGENT: served}\n"
        "durations: {service: s}\n"
    )
    with pytest.raises(MappingError, match="outcomes must map source values to answered, abandoned, skip"):
        load_mapping(bad)
    bad.write_text(
        "columns: {id: a, date: b, arrival: c, outcome: d}\n"
        "outcomes: {X: answered}\n"
        "durations: {service: s}\n"
        "timezone: Mars/Olympus\n"
    )
    with pytest.raises(MappingError, match="unknown timezone 'Mars/Olympus'"):
        load_mapping(bad)
