"""The queue recorder's configuration: a `queue_recorder:` section of a YAML file.

```yaml
queue_recorder:
  tenants: [acme]                      # the switch-routed tenants (mode 2); none: records nothing
  queues: {"670100-540100": support}   # app_queue name -> ccx queue id (others: the same name)
  agents: {"PJSIP/desk-7": a7}         # member interface -> agent id (others: "PJSIP/a1" -> "a1")
  wrap_up_s: {support: 30}             # wrap-up per ccx queue id, seconds (others: default_wrap_up_s)
  default_wrap_up_s: 0                 # 0: the wrap-up completes at once
```

`ccx run queue-recorder --queue-recorder-config FILE` reads FILE; without it,
`<data dir>/queue_recorder.yaml` when it exists, else the defaults (no tenant: nothing is
recorded until one is named). A tenant listed here is routed by the switch: do not route
its calls with the ACD (the switchboard's holding context) too (docs/adr/0015).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ccx.settings import Settings
from processors.queue_recorder import QueueRecorder, RecorderConfig

__all__ = ["config_path", "load_config", "queue_recorder_processor"]

_KNOWN = ("tenants", "queues", "agents", "wrap_up_s", "default_wrap_up_s")


def _seconds(path: Path, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"{path}: queue_recorder.{key} must be a whole number of seconds >= 0, not {value!r}"
        )
    return value


def _mapping(path: Path, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{path}: queue_recorder.{key} must be a mapping")
    return {str(k): v for k, v in value.items()}


def load_config(path: Path) -> RecorderConfig:
    """The `queue_recorder:` section of the YAML file `path`; unknown keys and bad values
    are a `ValueError` naming them."""
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not YAML: {e}") from None
    section = doc.get("queue_recorder", {}) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ValueError(f"{path}: 'queue_recorder' must be a mapping")
    unknown = sorted(set(section) - set(_KNOWN))
    if unknown:
        raise ValueError(f"{path}: unknown queue_recorder keys {unknown}; known: {sorted(_KNOWN)}")
    tenants = section.get("tenants") or []
    if not isinstance(tenants, list) or not all(isinstance(x, str) and x for x in tenants):
        raise ValueError(f"{path}: queue_recorder.tenants must be a list of tenant names")
    queues = {k: str(v) for k, v in _mapping(path, "queues", section.get("queues") or {}).items()}
    agents = {k: str(v) for k, v in _mapping(path, "agents", section.get("agents") or {}).items()}
    wrap = {
        k: _seconds(path, f"wrap_up_s.{k}", v)
        for k, v in _mapping(path, "wrap_up_s", section.get("wrap_up_s") or {}).items()
    }
    default = _seconds(path, "default_wrap_up_s", section.get("default_wrap_up_s", 0))
    return RecorderConfig(frozenset(tenants), queues, agents, wrap, default)


def config_path(settings: Settings, given: str | None) -> Path | None:
    if given:
        return Path(given)
    default = settings.data_dir / "queue_recorder.yaml"
    return default if default.is_file() else None


def queue_recorder_processor(settings: Settings, given: str | None = None) -> QueueRecorder:
    path = config_path(settings, given)
    return QueueRecorder(load_config(path) if path is not None else RecorderConfig())
