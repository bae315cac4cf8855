"""docker-compose.yml and the Dockerfile checked against the code, without Docker.

Every ccx service's command is parsed by the real click CLI (`ccx.cli.main`) and its health
check by `ccx.health.main`, its environment against `ccx.settings.ENV_VARS` and `Settings`;
every runner the composition root builds (`ccx.bootstrap.RUNNERS`) has a service; health
checks, `depends_on`, images and published ports follow the production rules. Renaming a
CLI option, a runner or an env var without updating the compose file fails here.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
import pytest
import yaml

from ccx.bootstrap import LOG_ADAPTERS, RUNNERS
from ccx.cli import main as ccx_cli
from ccx.health import Heartbeat, check_run, heartbeat_path
from ccx.health import main as health_cli
from ccx.run import OPTIONAL
from ccx.settings import ENV_VARS, Settings
from infra.kafka.local import DEFAULT_VERSION as KAFKA_VERSION

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
CCX = {name: s for name, s in SERVICES.items() if s.get("build") == "."}
"""The services that run the ccx image (built from the Dockerfile at the root)."""
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def parse(cli: click.Group, args: list[str]) -> click.Context:
    """The context the real CLI makes for `args`: groups resolved, the leaf command's options
    and arguments parsed (and validated: a renamed option or a bad choice raises UsageError)."""
    ctx = click.Context(cli, info_name=cli.name)
    command: click.Command = cli
    rest = list(args)
    while isinstance(command, click.Group):
        assert not [p for p in command.params if p.name != "help"], "groups take no options here"
        name, sub, rest = command.resolve_command(ctx, rest)
        assert name is not None and sub is not None
        command = sub
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=name, parent=ctx)
        else:
            return command.make_context(name, rest, parent=ctx)
    raise AssertionError(f"{args} names no command")


def command_path(ctx: click.Context) -> str:
    return ctx.command_path.split(" ", 1)[1]


def run_name(service: dict[str, Any]) -> str | None:
    """NAME of a `ccx run NAME` service, else None."""
    ctx = parse(ccx_cli, service["command"])
    return str(ctx.params["name"]) if command_path(ctx) == "run" else None


def one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {k: v["condition"] for k, v in service.get("depends_on", {}).items()}


def env_of(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping (the anchors merge mappings)"
    return env


# ---- the ccx services against the CLI and the settings


def test_the_ccx_services_are_the_topic_job_every_runner_the_clock_and_the_api() -> None:
    assert set(CCX) == {"topics", *RUNNERS, "clock", "api"}
    paths = {name: command_path(parse(ccx_cli, s["command"])) for name, s in CCX.items()}
    assert paths == {
        "topics": "topics apply",
        "api": "api",
        "clock": "clock",
        **dict.fromkeys(RUNNERS, "run"),
    }
    assert {name: run_name(s) for name, s in CCX.items() if paths[name] == "run"} == {r: r for r in RUNNERS}
    run_choices = next(p for p in ccx_cli.commands["run"].params if p.name == "name").type
    assert isinstance(run_choices, click.Choice)
    # beside the compose runners: the optional ones (ccx.run.OPTIONAL) and the AMI edge
    assert set(run_choices.choices) == {*RUNNERS, *OPTIONAL, "ami"}


@pytest.mark.parametrize("name", sorted(CCX))
def test_every_ccx_command_parses_with_the_real_cli(name: str) -> None:
    command = CCX[name]["command"]
    assert isinstance(command, list) and all(isinstance(a, str) for a in command), "exec form"
    ctx = parse(ccx_cli, command)
    assert ctx.params.get("data_dir") is None, "the data dir comes from CCX_DATA_DIR"
    with pytest.raises(click.UsageError):  # the parser really checks: a bogus option fails
        parse(ccx_cli, [*command, "--no-such-option"])


@pytest.mark.parametrize("name", sorted(CCX))
def test_every_ccx_service_is_configured_by_known_ccx_env_vars_only(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(CCX[name])
    assert set(env) <= set(ENV_VARS), f"unknown: {sorted(set(env) - set(ENV_VARS))}"
    assert all(isinstance(v, str) for v in env.values()), "quote every value (YAML 1.1 types)"
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    settings = Settings.from_env()  # the values convert (ints, ...)
    assert settings.backend == "kafka" and settings.backend in LOG_ADAPTERS
    host, _, port = str(settings.bootstrap).partition(":")
    assert host in SERVICES and f"PLAINTEXT://{host}:{port}" in kafka_env()["KAFKA_ADVERTISED_LISTENERS"]
    registry = urlparse(str(settings.schema_registry_url))
    assert registry.hostname == "schema-registry"
    listeners = SERVICES["schema-registry"]["environment"]["SCHEMA_REGISTRY_LISTENERS"]
    assert urlparse(listeners).port == registry.port
    assert settings.replication_factor == 1 == settings.min_insync_replicas  # one broker
    assert str(settings.data_dir) == "/data" == dockerfile_env()["CCX_DATA_DIR"]


def test_the_sink_and_the_api_share_the_clickhouse_server_the_others_need_none() -> None:
    urls = {name: env_of(s).get("CCX_WAREHOUSE_URL") for name, s in CCX.items()}
    assert {n for n, u in urls.items() if u} == {"sink", "api"}
    assert urls["sink"] == urls["api"]
    url = urlparse(str(urls["sink"]))
    ch = SERVICES["clickhouse"]["environment"]
    assert (url.scheme, url.hostname, url.port) == ("http", "clickhouse", 8123)
    assert (url.username, url.password, url.path) == (
        ch["CLICKHOUSE_USER"],
        ch["CLICKHOUSE_PASSWORD"],
        "/ccx",
    )
    assert ch["CLICKHOUSE_DB"] == "ccx"


def test_every_ccx_service_runs_one_image_built_from_the_dockerfile() -> None:
    assert {s["image"] for s in CCX.values()} == {"ccx:latest"}
    assert all(s["restart"] == "unless-stopped" for n, s in CCX.items() if n != "topics")


# ---- health checks and start order


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in SERVICES.items():
        if one_shot(service):
            assert "healthcheck" not in service, f"{name} is a job: its exit status is its health"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


@pytest.mark.parametrize("name", sorted([*RUNNERS, "clock"]))
def test_a_runner_health_check_is_ccx_health_on_its_own_heartbeat(name: str) -> None:
    test = CCX[name]["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "ccx.health"]
    ctx = parse(health_cli, test[4:])
    assert (command_path(ctx), ctx.params["name"]) == ("run", run_name(CCX[name]) or "clock")
    assert ctx.params["data_dir"] is None, "the runner's own CCX_DATA_DIR"


def test_a_heartbeat_is_healthy_only_while_fresh_and_running(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, instance="3")
    path = heartbeat_path(settings, "acd")
    assert path == tmp_path / "health" / "run-acd-3.json"
    assert "no heartbeat" in str(check_run(path))
    beat = Heartbeat(path, "acd")
    beat.beat("starting", force=True)
    assert "is starting" in str(check_run(path))
    beat.beat(force=True, handled=7)
    assert check_run(path) is None and json.loads(path.read_text())["handled"] == 7
    assert "last heartbeat 31s ago" in str(check_run(path, max_age_s=30, now=time.time() + 31))
    beat.beat("stopped", force=True)
    assert "is stopped" in str(check_run(path))


def test_the_api_health_check_asks_its_own_health_route() -> None:
    from api.app import create_app
    from api.live import LiveView

    api = CCX["api"]
    ctx = parse(ccx_cli, api["command"])
    test = api["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "ccx.health"]
    check = parse(health_cli, test[4:])
    assert command_path(check) == "http"
    url = urlparse(check.params["url"])
    assert (url.hostname, url.port) == ("127.0.0.1", ctx.params["port"])
    assert ctx.params["host"] == "0.0.0.0", "reachable from the other containers and the published port"
    routes = {getattr(r, "path", None) for r in create_app(LiveView(state=lambda: None)).routes}
    assert url.path == "/v1/health" and url.path in routes


def test_depends_on_names_defined_services_with_conditions_that_can_be_met() -> None:
    for name, service in SERVICES.items():
        for target, condition in depends(service).items():
            assert target in SERVICES and target != name, f"{name} -> {target}"
            assert condition in CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{name} waits for {target}'s health"
            if condition == "service_completed_successfully" or one_shot(SERVICES[target]):
                assert one_shot(SERVICES[target]) and condition == "service_completed_successfully"


def test_start_order_brokers_then_topics_then_ccx() -> None:
    def upstream(name: str, seen: frozenset[str] = frozenset()) -> dict[str, str]:
        assert name not in seen, f"depends_on cycle through {name}"
        out: dict[str, str] = {}
        for target, condition in depends(SERVICES[name]).items():
            out[target] = condition
            out.update({k: v for k, v in upstream(target, seen | {name}).items() if k not in out})
        return out

    assert depends(CCX["topics"]) == {"kafka": "service_healthy"}
    for name in CCX:
        if name == "topics":
            continue
        up = upstream(name)
        assert up["topics"] == "service_completed_successfully" and up["kafka"] == "service_healthy"
        assert up["schema-registry"] == "service_healthy"
        assert ("clickhouse" in up) == ("CCX_WAREHOUSE_URL" in env_of(CCX[name])), name
        if "clickhouse" in up:
            assert up["clickhouse"] == "service_healthy"


# ---- the real components


def kafka_env() -> dict[str, Any]:
    return dict(SERVICES["kafka"]["environment"])


def test_kafka_is_the_official_image_single_node_kraft() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}", "the version infra/kafka runs in the tests"
    env = kafka_env()
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not [k for k in env if "ZOOKEEPER" in k]
    node = env["KAFKA_NODE_ID"]
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"{node}@kafka:9093" and "CONTROLLER://:9093" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false", "topics come from `ccx topics apply`"
    for key in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert env[f"KAFKA_{key}"] == 1, "one broker"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert (
        "kafka-data:/var/lib/kafka/data" in kafka["volumes"]
        and env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    )


def test_third_party_images_are_pinned() -> None:
    for name, service in SERVICES.items():
        if name in CCX:
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
    assert SERVICES["schema-registry"]["image"].startswith("confluentinc/cp-schema-registry:")
    assert SERVICES["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")


def test_published_ports_are_bound_to_loopback_only() -> None:
    published = {}
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name}: {port}"
            host_port, container_port = port.split(":")[1:]
            published[name] = int(container_port)
            assert host_port == container_port
    assert published["api"] == parse(ccx_cli, CCX["api"]["command"]).params["port"]
    assert {"kafka", "api"} <= set(published)
    host_listener = "HOST://127.0.0.1:29092"
    assert host_listener in kafka_env()["KAFKA_ADVERTISED_LISTENERS"] and published["kafka"] == 29092


def test_named_volumes_are_declared() -> None:
    bind = ("/", "./")  # host paths (absolute, or relative to this file) are bind mounts
    used = {
        v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith(bind)
    }
    assert used <= set(COMPOSE.get("volumes") or {})


# ---- the image


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(pair.partition("=")[::2] for pair in line[4:].split())
    return env


def test_the_image_installs_every_package_and_runs_ccx() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "FROM python:3.12-slim"
    assert 'ENTRYPOINT ["ccx"]' in lines
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["ccx"] == "ccx.cli:main"
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = set(re.findall(r"^COPY (\S+?)/? ", text, re.MULTILINE))
    assert set(packages) <= copied, f"not copied: {sorted(set(packages) - copied)}"
    assert {"pyproject.toml", "README.md"} <= set(
        re.findall(r"^COPY (.+) \./$", text, re.MULTILINE)[0].split()
    )
    assert "pip install --no-deps ." in text, "installed, not edited in place"
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not ignored & {*packages, "pyproject.toml", "README.md"}
    assert {".git", ".venv", "data"} <= ignored
