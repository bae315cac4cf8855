"""`ccx customers import`: a CSV with good and bad rows on the embedded log, the rejects file,
conflicts only the decider can see, and re-importing the same file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from analytics.customer_import import read_customers
from ccx.bootstrap import open_log, open_pipeline
from ccx.cli import main
from ccx.settings import Settings
from processors.customer_directory import CustomerDirectory, identify
from processors.customers import customers_processor
from schemas.customers import CustomerDefined
from streams import topics
from streams.tail import read_all

GOOD_AND_BAD = """customer_id,name,phones,emails,vip,language,segment,contract
c1,Alice Adler,030 1234567;+49 151 12345678,Alice@Example.com,yes,de,retail,gold
c2,Bob Berg,+1 212 555 0100,bob@example.com,no,en-US,business,
c3,,+33 1 42 68 53 00,,,,,
c4,Dora Dahl,12,dora@example.com,,,,
c5,Emil Ek,+46 8 123 456 78,not-an-email,,,,
c6,Fritz Frey,030 1234567,,,,,
c1,Alice Again,+49 30 7654321,,,,,
,No Id,,,,,,
c7,Gus Grau,,,maybe,,,
c8,Hanna Holm,+49 40 1234567,,true,xx-!!,,
c9,Ida Iske,0049 40 7654321,IDA@example.com,1,sv,,
"""


def ccx(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_good_rows_become_customers_and_bad_rows_are_reported_with_line_field_and_reason(
    tmp_path: Path,
) -> None:
    data, src, rejects = tmp_path / "data", tmp_path / "customers.csv", tmp_path / "bad.csv"
    src.write_text(GOOD_AND_BAD)
    code, out, err = ccx(
        "customers", "import", str(src), "--data-dir", str(data), "--tenant", "t1", "--region", "DE",
        "--rejects", str(rejects), "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["accepted"], summary["rejected"], summary["appended"]) == (11, 3, 8, 3)
    assert summary["rejected_by_field"] == {
        "customer_id": 2, "emails": 1, "language": 1, "names": 1, "phones": 2, "vip": 1
    }  # fmt: skip
    with rejects.open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["customer_id"], r["field"]) for r in rows] == [
        ("4", "c3", "names"),
        ("5", "c4", "phones"),
        ("6", "c5", "emails"),
        ("7", "c6", "phones"),
        ("8", "c1", "customer_id"),
        ("9", "", "customer_id"),
        ("10", "c7", "vip"),
        ("11", "c8", "language"),
    ]
    reasons = {r["line"]: r["reason"] for r in rows}
    assert reasons["5"] == "phones[0]: '12' is not a valid phone number"
    assert reasons["7"] == "phones[0]: +49301234567 is already on line 2"
    assert reasons["8"] == "customer_id: 'c1' is already on line 2"

    # the commands were decided: the profiles are normalised events on cc.customer-events
    settings = Settings(data_dir=data, tenant="t1")
    log, serde = open_log(settings)
    try:
        defined = [m.body for _r, m in read_all(log, serde, [topics.CUSTOMER_EVENTS.name])]
    finally:
        log.close()
    assert [d.customer_id for d in defined] == ["c1", "c2", "c9"]
    c1 = defined[0]
    assert isinstance(c1, CustomerDefined)
    assert c1.phones == ("+49301234567", "+4915112345678") and c1.emails == ("alice@example.com",)
    assert (
        c1.vip
        and c1.language == "de"
        and [(a.name, a.value) for a in c1.attributes] == [("contract", "gold")]
    )

    # a second file: a number c1 already owns is refused by the decider, and reported
    second = tmp_path / "more.csv"
    second.write_text("customer_id,name,phones\nc10,Jo Jung,+49 30 1234567\nc11,Kai Kern,+49 40 1111111\n")
    code, out, err = ccx(
        "customers",
        "import",
        str(second),
        "--data-dir",
        str(data),
        "--tenant",
        "t1",
        "--rejects",
        str(rejects),
    )
    assert code == 0
    assert "line 2: c10: phones: phone_in_use: phones[0]: +49301234567 belongs to customer 'c1'" in err
    assert "accepted: 1" in out and "rejected: 1" in out
    with rejects.open() as f:
        assert [r["field"] for r in csv.DictReader(f)] == ["phones"]

    # importing the first file again changes nothing
    code, out, _err = ccx(
        "customers", "import", str(src), "--data-dir", str(data), "--tenant", "t1", "--region", "DE", "--json"
    )
    assert code == 0
    pipeline = open_pipeline(
        settings,
        with_warehouse=False,
        runners=("customers", "customer-directory"),
        processors={"customers": customers_processor(), "customer-directory": CustomerDirectory(region="DE")},
    )
    try:
        pipeline.run_until_idle()
        events = [m for _r, m in read_all(pipeline.log, pipeline.serde, [topics.CUSTOMER_EVENTS.name])]
        state = pipeline.runners["customer-directory"].state
    finally:
        pipeline.close()
    assert len(events) == 4  # c1, c2, c9, c11: the re-import decided nothing new
    found = identify(state, "t1", ani="040 7654321", region="DE")
    assert found is not None and found.customer_id == "c9"


def test_a_file_without_a_customer_id_column_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("name,phones\nA,+4930123456\n")
    code, _out, err = ccx("customers", "import", str(src), "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "needs a customer_id column" in err


def test_reading_is_pure_and_ids_derive_from_the_file(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(GOOD_AND_BAD)
    a = read_customers(src, tenant="t1", at_ms=1, region="DE")
    b = read_customers(src, tenant="t1", at_ms=1, region="DE")
    assert [m.envelope.event_id for m in a[1]] == [m.envelope.event_id for m in b[1]]
    assert a[0].summary() == b[0].summary()
