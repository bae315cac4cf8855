"""The switchboard's configuration: a `switchboard:` section of a YAML file.

```yaml
switchboard:
  holding_context: ccx-inbound      # calls entering this context are routed by ccx
  dnis_queues: {"8000": sales, "8001": support}
  default_queue: support            # other numbers ("" or absent: left alone)
  agent_endpoints: {a1: PJSIP/a1, a2: SIP/desk-2}
  endpoint_pattern: "PJSIP/{agent_id}"   # agents not listed ("" : none, offers declined)
  agent_context: ccx-agent          # where agent legs are originated
  agent_exten: s
  record_file: "{contact_id}.wav"   # record every connected call ("" or absent: no)
  dnis_flows: {"8002": bank-main}   # these numbers go through an IVR flow first
  default_flow: ""                  # the flow of other numbers ("": none)
  play_context: ccx-play            # where IVR prompts are played
ivr:
  flows: [ivr/main.yaml]            # flow files, relative to this file (`ccx run ivr`)
```

`ccx run switchboard --switchboard-config FILE` (and `ccx run ivr`, the IVR in front of
the queue: `telephony.ivr.live`) reads FILE; without it, `<data dir>/switchboard.yaml`
when it exists, else the defaults above (no queue: nothing is routed until a DNIS map or
default queue is configured). Both read the same `switchboard:` section, so they agree on
which calls go through a flow.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from ccx.ivr import FlowError, load_flow
from ccx.settings import Settings
from processors.switchboard import Switchboard, SwitchboardConfig
from telephony.ivr.live import LiveIvr
from telephony.ivr.model import Flow

__all__ = ["config_path", "ivr_processor", "load_config", "load_flows", "switchboard_processor"]

_MAPS = ("dnis_queues", "agent_endpoints", "dnis_flows")


def load_config(path: Path) -> SwitchboardConfig:
    """The `switchboard:` section of the YAML file `path`; unknown keys are a `ValueError`."""
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not YAML: {e}") from None
    section = doc.get("switchboard", {}) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ValueError(f"{path}: 'switchboard' must be a mapping")
    known = {f.name for f in fields(SwitchboardConfig)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(f"{path}: unknown switchboard keys {unknown}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key in _MAPS:
            if not isinstance(value, dict):
                raise ValueError(f"{path}: switchboard.{key} must be a mapping")
            values[key] = {str(k): str(v) for k, v in value.items()}
        else:
            values[key] = "" if value is None else str(value)
    return SwitchboardConfig(**values)


def config_path(settings: Settings, given: str | None) -> Path | None:
    if given:
        return Path(given)
    default = settings.data_dir / "switchboard.yaml"
    return default if default.is_file() else None


def switchboard_processor(settings: Settings, given: str | None = None) -> Switchboard:
    path = config_path(settings, given)
    return Switchboard(load_config(path) if path is not None else SwitchboardConfig())


def load_flows(path: Path) -> list[Flow]:
    """The flows the `ivr:` section's `flows` list names (paths relative to `path`'s folder);
    a flow that does not validate is a `ValueError` listing its problems."""
    doc = yaml.safe_load(path.read_text()) or {}
    section = doc.get("ivr", {}) if isinstance(doc, dict) else None
    if not isinstance(section, dict) or set(section) - {"flows"}:
        raise ValueError(f"{path}: 'ivr' must be a mapping with 'flows' (a list of flow files)")
    files = section.get("flows", []) or []
    if not isinstance(files, list):
        raise ValueError(f"{path}: ivr.flows must be a list of flow files")
    flows: list[Flow] = []
    for name in files:
        file = path.parent / str(name)
        try:
            flow, _warnings = load_flow(file)
        except FlowError as e:
            raise ValueError("\n".join(e.problems)) from None
        except OSError as e:
            raise ValueError(f"{path}: ivr.flows: {e}") from None
        flows.append(flow)
    return flows


def ivr_processor(settings: Settings, given: str | None = None) -> LiveIvr:
    """`ccx run ivr`: the flows and the call routing of the switchboard's configuration file."""
    path = config_path(settings, given)
    if path is None:
        return LiveIvr([], SwitchboardConfig())
    return LiveIvr(load_flows(path), load_config(path))
