"""`ccx ivr validate|run`: load IVR flow files and run them offline.

Loading wires the routing file's YAML loader and checker (`ccx.config_file`: line marks
per mapping key, "FILE:LINE: path: reason" problems) into `telephony.ivr.flow.parse_flow`,
which owns the IVR rules. `run` drives the pure interpreter with a scripted caller
(`telephony.ivr.drive`) and renders the path and every output as text or JSON.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ccx.config_file import FieldChecker, LinedLoader, yaml_problem
from telephony.ivr.drive import Transcript, drive, tokens
from telephony.ivr.flow import FlowError, parse_flow
from telephony.ivr.messages import Contact, HangUp, LeaveVoicemail, PlayPrompt, StartLookup
from telephony.ivr.model import Flow

__all__ = ["FlowError", "load_flow", "load_flow_text", "run_text", "run_json", "transcript", "validate"]

_EFFECTS = (PlayPrompt, StartLookup, LeaveVoicemail, HangUp)


def load_flow_text(text: str, name: str = "flow.yaml") -> tuple[Flow, list[str]]:
    """(flow, warnings) from YAML text; FlowError lists every problem as "NAME:LINE: path: reason"."""
    try:
        doc = yaml.load(text, Loader=LinedLoader)  # LinedLoader is a SafeLoader that keeps line marks
    except yaml.YAMLError as e:
        raise FlowError([yaml_problem(e, name)]) from None
    if not isinstance(doc, dict):
        raise FlowError([f"{name}:1: a flow file is a mapping with id, version, start and nodes"])
    return parse_flow(doc, lambda: FieldChecker(name))


def load_flow(path: Path) -> tuple[Flow, list[str]]:
    """(flow, warnings) from a file; problems name the file as given (FILE:LINE: ...)."""
    return load_flow_text(path.read_text(), str(path))


def validate(paths: list[Path]) -> tuple[list[str], bool]:
    """(lines to print, every file valid): "FILE: OK ..." or its problems; warnings either way."""
    lines: list[str] = []
    ok = True
    for path in paths:
        try:
            flow, warnings = load_flow(path)
        except FlowError as e:
            lines += e.problems
            ok = False
            continue
        except OSError as e:
            lines.append(f"{path}: cannot read: {e.strerror}")
            ok = False
            continue
        lines.append(f"{path}: OK (flow {flow.id!r} version {flow.version}, {len(flow.nodes)} nodes)")
        lines += warnings
    return lines, ok


def transcript(
    path: Path, digits: str, *, ani: str = "", dnis: str = "", at_ms: int = 0, lookup: str | None = None
) -> Transcript:
    """Drive the flow in `path` with the comma-separated script `digits`; FlowError, ValueError."""
    flow, _warnings = load_flow(path)
    contact = Contact("contact-1", ani, dnis)
    return drive(flow, contact, tokens(digits), start_ms=at_ms, lookup=lookup)


def _kind(output: object) -> str:
    if isinstance(output, _EFFECTS):
        return "effect"
    return "command" if type(output).__module__ == "schemas.commands" else "event"


def _fields(output: object) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(output)))  # type: ignore[call-overload]
    return fields


def run_json(t: Transcript) -> str:
    return json.dumps(
        {
            "path": list(t.path),
            "result": t.state.result,
            "outputs": [
                {"at_ms": at, "kind": _kind(o), "type": type(o).__name__, **_fields(o)} for at, o in t.outputs
            ],
        },
        sort_keys=True,
    )


def run_text(t: Transcript, at_ms: int = 0) -> str:
    lines = [f"path: {' > '.join(t.path)}", f"result: {t.state.result or 'still in the flow'}"]
    if at_ms:
        lines.append(f"started: {datetime.fromtimestamp(at_ms / 1000, UTC).isoformat()}")
    for at, o in t.outputs:
        fields = " ".join(
            f"{k}={v!r}" for k, v in _fields(o).items() if k != "contact_id" and v not in ("", ())
        )
        lines.append(f"{at / 1000:>8.1f}s  {_kind(o):<7} {type(o).__name__:<18} {fields}")
    return "\n".join(lines) + "\n"
