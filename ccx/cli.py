"""The `ccx` command line: parses options, builds settings, hands on to ccx's entry points."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ccx.settings import Settings

__all__ = ["main"]

DATA_DIR = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="Data directory [env CCX_DATA_DIR]."
)


def backend_options(command: Any) -> Any:
    """--backend, --bootstrap and --namespace: which log to use (else the CCX_* environment)."""
    for option in reversed(
        [
            click.option(
                "--backend",
                type=click.Choice(["embedded", "kafka"]),
                default=None,
                help="Log backend [env CCX_BACKEND, default embedded].",
            ),
            click.option(
                "--bootstrap", default=None, help="Kafka bootstrap HOST:PORT[,...] [env CCX_BOOTSTRAP]."
            ),
            click.option(
                "--namespace", default=None, help="Prefix of topics and groups on Kafka [env CCX_NAMESPACE]."
            ),
        ]
    ):
        command = option(command)
    return command


def _sim_config(agents: int, queues: int, rate: str, tenant: str) -> Any:
    from telephony.simulator import SimConfig, parse_rate

    try:
        per_hour = parse_rate(rate)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--rate") from None
    return SimConfig(tenant=tenant, agents=agents, queues=queues, arrival_rate_per_hour=per_hour)


@click.group()
def main() -> None:
    """ccx: an event-sourced contact center."""


@main.command()
@DATA_DIR
@backend_options
@click.option("--agents", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--queues", default=2, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--rate", default="300/h", show_default=True, help="Total arrival rate, e.g. 300/h, 5/min.")
@click.option("--duration", default="1h", show_default=True, help="Simulated time, e.g. 1h, 90m, 1h30m.")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--start", default=None, help="Simulated start time (ISO, UTC) [2026-01-05T08:00:00Z].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--no-warehouse", is_flag=True, help="Skip the warehouse sink (log and live stats only).")
@click.option(
    "--no-drain", is_flag=True, help="Stop at the end of the duration instead of letting queues empty."
)
@click.option(
    "--ivr",
    "ivr_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="An IVR flow file every caller walks (seeded keypresses) before being routed.",
)
def simulate(
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    agents: int,
    queues: int,
    rate: str,
    duration: str,
    seed: int,
    start: str | None,
    as_json: bool,
    no_warehouse: bool,
    no_drain: bool,
    ivr_file: str | None,
) -> None:
    """Simulate traffic fast-forward through the whole pipeline; print the summary.

    Arrivals stop after --duration; then, unless --no-drain, the simulation goes on until
    every contact is served or abandoned and every wrap-up is done, as when a queue closes.
    With --ivr, callers first walk the flow; its events go to cc.ivr-events (docs/ivr.md).
    """
    from ccx.simulate import DEFAULT_START, parse_start, run_simulation
    from telephony.simulator import parse_duration

    flow = None
    if ivr_file is not None:
        from ccx.ivr import FlowError, load_flow

        try:
            flow, _warnings = load_flow(Path(ivr_file))
        except FlowError as e:
            raise click.BadParameter("\n".join(e.problems), param_hint="--ivr") from None

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    try:
        duration_ms = parse_duration(duration)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--duration") from None
    try:
        start_ms = parse_start(start or DEFAULT_START)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--start") from None
    result = run_simulation(
        settings,
        _sim_config(agents, queues, rate, settings.tenant),
        seed=seed,
        duration_ms=duration_ms,
        start_ms=start_ms,
        with_warehouse=not no_warehouse,
        progress=not as_json or sys.stderr.isatty(),
        drain=not no_drain,
        ivr=flow,
    )
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        for key, value in result.items():
            if key != "queues":
                click.echo(f"{key:>16}: {value}")


def _report_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """NAME checked against the registry only when `ccx report` runs (importing the analytics
    package for every `ccx` command would slow them all)."""
    from analytics.reports.registry import REPORTS

    if value is not None and value not in REPORTS:
        raise click.BadParameter(f"{value!r} is not a report; choose from {', '.join(REPORTS)} (ccx reports)")
    return value


REPORT_FORMATS = ("table", "csv", "json", "jsonl", "parquet")
"""`analytics.reports.render.FORMATS` (a test checks they agree)."""


@main.command()
@click.argument("name", required=False, callback=_report_name)
@click.option("--list", "list_reports", is_flag=True, help="List the reports with what they show.")
@DATA_DIR
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--from", "start", default=None, help="Period start, inclusive: ISO time (UTC) or epoch ms.")
@click.option("--to", "end", default=None, help="Period end, exclusive: ISO time (UTC) or epoch ms.")
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the report to FILE (else stdout; parquet needs a file or a pipe).",
)
@click.option(
    "--chart", type=click.Path(dir_okay=False, writable=True), default=None, help="Also draw a PNG."
)
@click.option("--interval", default=None, help="Interval length: 15m, 30m, 1h, 1d [queue-intervals: 15m].")
@click.option("--sl-threshold", type=int, default=None, help="Override every queue's SL threshold (s).")
@click.option(
    "--short-abandon", type=int, default=None, help="Override every queue's short-abandon threshold (s)."
)
@click.option(
    "--sl-variant",
    type=click.Choice(["abandons_ignored", "abandons_against", "abandons_for", "answered_only"]),
    default=None,
)
@click.option("--by", type=click.Choice(["hour", "weekday"]), default=None, help="trends: group by [hour].")
@click.option("--timezone", default=None, help="trends: IANA zone of the hours and weekdays [UTC].")
@click.option("--fcr-window-h", type=int, default=None, help="repeat-contacts: repeat window, hours [168].")
def report(
    name: str | None,
    list_reports: bool,
    data_dir: str | None,
    fmt: str,
    start: str | None,
    end: str | None,
    tenant: str | None,
    output: str | None,
    chart: str | None,
    interval: str | None,
    sl_threshold: int | None,
    short_abandon: int | None,
    sl_variant: str | None,
    by: str | None,
    timezone: str | None,
    fcr_window_h: int | None,
) -> None:
    """Print the report NAME from the warehouse (`ccx reports` lists them).

    Options a report does not take are refused; --chart draws a PNG for the reports that
    have one (queue-intervals, trends, abandons, dispositions, geography).
    """
    from pathlib import Path

    if list_reports:
        from ccx.reports import listing

        click.echo(listing(), nl=False)
        return
    if name is None:
        raise click.UsageError("Missing argument 'NAME' (or --list).")
    from ccx.reports import FLAGS, ReportOptionError, prepare, run_report

    try:
        request = prepare(
            name,
            fmt=fmt,
            tenant=tenant,
            start=start,
            end=end,
            chart=chart is not None,
            interval=interval,
            sl_threshold_s=sl_threshold,
            short_abandon_s=short_abandon,
            sl_variant=sl_variant,
            by=by,
            timezone=timezone,
            fcr_window_h=fcr_window_h,
        )
    except ReportOptionError as e:
        raise click.BadParameter(e.message, param_hint=FLAGS[e.option]) from None
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise click.BadParameter(
            "parquet is binary: give --output FILE or redirect stdout", param_hint="--output"
        )
    settings = Settings.from_env(data_dir=data_dir)
    data = run_report(settings, request, chart=Path(chart) if chart else None)
    if output is not None:
        Path(output).write_bytes(data)
    elif fmt == "parquet":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        click.echo(data.decode("utf-8"), nl=False)


@main.command("reports")
def list_reports() -> None:
    """List the reports `ccx report NAME` prints, with what each shows."""
    from ccx.reports import listing

    click.echo(listing(), nl=False)


def _at(text: str | None, option: str = "--at") -> int | None:
    """An ISO time (UTC unless it says otherwise) or epoch milliseconds."""
    from ccx.simulate import parse_start

    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        return parse_start(text)
    except ValueError:
        raise click.BadParameter(
            f"an ISO time such as 2026-01-05T10:03:00Z, not {text!r}", param_hint=option
        ) from None


@main.command()
@DATA_DIR
@backend_options
@click.option("--check", is_flag=True, help="Compare every re-made decision with the recorded one.")
@click.option(
    "--at", "at", default=None, help="Print every queue's and agent's state at this time (ISO or epoch ms)."
)
@click.option("--json", "as_json", is_flag=True, help="With --at: print one JSON object.")
def replay(
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    check: bool,
    at: str | None,
    as_json: bool,
) -> None:
    """Re-run the deciders over the log: --check compares every decision with the recorded
    one; --at TIME shows the ACD's queues and agents as they were at that moment."""
    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    if check == (at is not None):
        raise click.UsageError("give exactly one of --check or --at TIME")
    if at is not None:
        from ccx.timeline import render_state, state_at

        view = state_at(settings, _at(at) or 0)
        click.echo(json.dumps(view, sort_keys=True) if as_json else render_state(view), nl=as_json)
        return
    from ccx.audit import replay_check_all

    decisions, mismatches, details = replay_check_all(settings)
    for line in details:
        click.echo(line, err=True)
    click.echo(f"decisions: {decisions}, mismatches: {mismatches}")
    sys.exit(1 if mismatches else 0)


@main.group()
def audit() -> None:
    """Explain what happened, from the log alone."""


@audit.command("contact")
@click.argument("contact_id")
@DATA_DIR
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per command.")
def audit_contact(
    contact_id: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    as_json: bool,
) -> None:
    """A contact's whole timeline: each command and the events it caused, with every
    routing decision's strategy, rule version, candidates and reason."""
    from ccx.timeline import contact_timeline, render_timeline

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    steps = contact_timeline(settings, contact_id)
    if as_json:
        for step in steps:
            click.echo(json.dumps(step, sort_keys=True, default=str))
    else:
        click.echo(render_timeline(contact_id, steps), nl=False)
    if not steps:
        sys.exit(1)


@main.group("import")
def import_() -> None:
    """Load history from other systems as events."""


@import_.command("calls")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--mapping",
    "mapping",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Column mapping (YAML), e.g. analytics/mappings/anonymous_bank.yaml.",
)
@DATA_DIR
@backend_options
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the rejected rows (line, id, reason) to this CSV.",
)
@click.option(
    "--no-process",
    is_flag=True,
    help="Only append the events; leave CDRs and the warehouse to the running pipeline.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def import_calls_cmd(
    file: str,
    mapping: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    rejects: str | None,
    no_process: bool,
    as_json: bool,
) -> None:
    """Import a call log (CSV/TSV) whose columns MAPPING names, as contact events; report
    the rows rejected and why."""
    from pathlib import Path

    from analytics.call_import import MappingError
    from ccx.importer import AlreadyImported, import_calls

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    try:
        summary = import_calls(
            settings,
            Path(file),
            Path(mapping),
            rejects=Path(rejects) if rejects else None,
            process=not no_process,
            progress=not as_json or sys.stderr.isatty(),
        )
    except (MappingError, AlreadyImported) as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        for key, value in summary.items():
            click.echo(f"{key:>20}: {value}")


@main.group()
def config() -> None:
    """Routing configuration (skills, schedules, queues, agents, blocked numbers) as events."""


@config.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@DATA_DIR
@backend_options
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; send nothing.")
@click.option(
    "--timeout", default=15.0, show_default=True, help="Seconds to wait for a running ACD's outcomes."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per definition.")
def config_apply(
    file: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    dry_run: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Send the definitions of FILE (YAML) that differ from the log's as commands, and show
    what the ACD made of each (accepted with its rule version, or rejected and why)."""
    from pathlib import Path

    from ccx.config_apply import apply_file
    from ccx.config_file import ConfigError

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    try:
        rows = apply_file(settings, Path(file), dry_run=dry_run, timeout_s=timeout)
    except ConfigError as e:
        for problem in e.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(e.problems)} problem(s) in {file}; nothing was sent") from None
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, sort_keys=True))
        else:
            click.echo(f"{row['command']:<36}{row['outcome']:<14}{row['detail']}")
    if any(r["outcome"] in ("rejected", "dead-lettered", "pending") for r in rows):
        sys.exit(1)


@config.command("show")
@DATA_DIR
@backend_options
@click.option("--at", "at", default=None, help="The configuration in force at this time (ISO or epoch ms).")
def config_show(
    data_dir: str | None, backend: str | None, bootstrap: str | None, namespace: str | None, at: str | None
) -> None:
    """Print the accepted configuration (now, or at --at) as a YAML file `config apply` takes."""
    import yaml

    from ccx.config_apply import show_config

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    click.echo(yaml.safe_dump(show_config(settings, _at(at)), sort_keys=False, allow_unicode=True), nl=False)


@main.group()
def ivr() -> None:
    """IVR flows (YAML): check them and run them offline (docs/ivr.md)."""


@ivr.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def ivr_validate(files: tuple[str, ...]) -> None:
    """Check each flow FILE: print OK or every problem as FILE:LINE: path: reason (exit 1)."""
    from pathlib import Path

    from ccx.ivr import validate

    lines, ok = validate([Path(f) for f in files])
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)


@ivr.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--digits", default="", help="The caller's script: DTMF digits, 'timeout', 'hangup', e.g. 1,2,#."
)
@click.option("--ani", default="+4930123456", show_default=True, help="The caller's number.")
@click.option("--dnis", default="", help="The number called.")
@click.option(
    "--at", "at", default=None, help="When the call starts (ISO or epoch ms) [2026-01-05T10:00:00Z]."
)
@click.option("--lookup", default=None, help="JSON every lookup answers with (default: lookups fail).")
@click.option("--json", "as_json", is_flag=True, help="Print the path and the outputs as one JSON object.")
def ivr_run(
    file: str, digits: str, ani: str, dnis: str, at: str | None, lookup: str | None, as_json: bool
) -> None:
    """Drive the flow in FILE offline with the given digits (prompts finish, timeouts fire as
    a caller would meet them) and print the node path and every event, effect and command."""
    from pathlib import Path

    from ccx.ivr import FlowError, run_json, run_text, transcript

    at_ms = _at(at) if at is not None else 1767607200000
    try:
        t = transcript(Path(file), digits, ani=ani, dnis=dnis, at_ms=at_ms or 0, lookup=lookup)
    except FlowError as e:
        for problem in e.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(e.problems)} problem(s) in {file}") from None
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--digits") from None
    click.echo(run_json(t) if as_json else run_text(t, at_ms or 0), nl=as_json)


@main.command("run")
@click.argument(
    "name",
    type=click.Choice(
        [
            "acd",
            "cdr",
            "stats",
            "trunks",
            "sink",
            "switchboard",
            "ivr",
            "queue-recorder",
            "tickets",
            "notify-webhook",
            "kb",
            "kb-search",
            "customers",
            "customer-directory",
            "ami",
        ]
    ),
)
@DATA_DIR
@click.option("--until-idle", is_flag=True, help="Stop when there is nothing left to process.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--switchboard-config",
    default=None,
    help="switchboard, ivr: YAML file [DATA_DIR/switchboard.yaml].",
)
@click.option(
    "--queue-recorder-config", default=None, help="queue-recorder: YAML file [DATA_DIR/queue_recorder.yaml]."
)
@click.option("--ami-host", default="127.0.0.1", show_default=True, help="ami: the Asterisk manager host.")
@click.option("--ami-port", default=5038, show_default=True, type=click.IntRange(1, 65535))
@click.option("--ami-user", default="ccx", show_default=True, help="ami: the manager.conf user.")
@click.option(
    "--ami-secret-env",
    default="CCX_AMI_SECRET",
    show_default=True,
    help="ami: the environment variable holding the AMI secret (never give the secret itself).",
)
@click.option("--tenant", default=None, help="ami: tenant of the facts [env CCX_TENANT, default demo].")
def run_processor(
    name: str,
    data_dir: str | None,
    until_idle: bool,
    batch_size: int,
    switchboard_config: str | None,
    queue_recorder_config: str | None,
    ami_host: str,
    ami_port: int,
    ami_user: str,
    ami_secret_env: str,
    tenant: str | None,
) -> None:
    """Run one processor (or the warehouse sink) exactly-once until stopped (SIGTERM).

    Configured by the CCX_* environment (backend, bootstrap, namespace, instance, warehouse);
    beats a heartbeat that `python -m ccx.health run NAME` checks (docker-compose.yml).
    `switchboard` maps switch facts to ACD commands and decisions to switch actions; `ivr`
    runs the IVR flows in front of the queue (docs/ivr.md); `queue-recorder` records the
    calls Asterisk's app_queue routes as contact and agent events; `ami` is the live
    Asterisk edge: facts into cc.telephony, cc.switch-actions performed (docs/telephony.md);
    `tickets` decides the ticket commands into cc.ticket-events (docs/tickets.md);
    `notify-webhook` posts customer notifications to CCX_NOTIFY_WEBHOOK_URL."""
    import os

    from ccx.run import run_one

    settings = Settings.from_env(data_dir=data_dir, tenant=tenant)
    if name == "ami":
        from ccx.ami_live import run_ami
        from telephony.ami.client import AmiConfig

        secret = os.environ.get(ami_secret_env)
        if not secret:
            raise click.ClickException(f"set the AMI secret in the environment variable {ami_secret_env}")
        run_ami(settings, AmiConfig(host=ami_host, port=ami_port, username=ami_user, secret=secret))
        return
    if name in ("switchboard", "ivr"):
        from ccx.switchboard import ivr_processor, switchboard_processor

        try:
            (switchboard_processor if name == "switchboard" else ivr_processor)(settings, switchboard_config)
        except (OSError, ValueError) as e:
            raise click.ClickException(f"{name} configuration: {e}") from None
    if name == "notify-webhook":
        from ccx.notify_webhook import notify_webhook_from_env

        try:
            notify_webhook_from_env().close()
        except ValueError as e:
            raise click.ClickException(str(e)) from None
    if name == "queue-recorder":
        from ccx.queue_recorder import queue_recorder_processor

        try:
            queue_recorder_processor(settings, queue_recorder_config)
        except (OSError, ValueError) as e:
            raise click.ClickException(f"queue recorder configuration: {e}") from None
    run_one(
        settings,
        name,
        until_idle=until_idle,
        batch_size=batch_size,
        switchboard_config=switchboard_config,
        queue_recorder_config=queue_recorder_config,
    )


@main.command()
@DATA_DIR
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    help="Tick this tenant too (repeatable); tenants with configuration tick anyway.",
)
def clock(data_dir: str | None, tenants: tuple[str, ...]) -> None:
    """Append a Tick per tenant every second (ring-no-answer and wrap-up timeouts fire on
    them) until stopped (SIGTERM). The production layout runs one; ccx up and ccx simulate
    tick by themselves."""
    from ccx.clock import main as clock_main

    clock_main(Settings.from_env(data_dir=data_dir), tenants)


@main.command("dead-letters")
@DATA_DIR
@backend_options
@click.option("--limit", default=50, show_default=True)
def dead_letters(
    data_dir: str | None, backend: str | None, bootstrap: str | None, namespace: str | None, limit: int
) -> None:
    """List quarantined input with the reason it was rejected."""
    from ccx.audit import dead_letters as list_dead_letters

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    for row in list_dead_letters(settings, limit):
        click.echo(json.dumps(row))


@main.command()
@DATA_DIR
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--agents", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--queues", default=2, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--rate", default="300/h", show_default=True)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--no-sim", is_flag=True, help="Serve only; no simulated traffic.")
@click.option(
    "--desk-agents",
    default=1,
    show_default=True,
    type=click.IntRange(0, 99),
    help="Human agents desk01.. in every queue, for the browser desktop (tokens printed).",
)
def up(
    data_dir: str | None,
    port: int,
    host: str,
    agents: int,
    queues: int,
    rate: str,
    seed: int,
    no_sim: bool,
    desk_agents: int,
) -> None:
    """Run ccx in one process: log, processors, warehouse sink, simulator, the API, the
    wallboard, the agent desktop and admin pages (demo tokens printed at start)."""
    from ccx.up import serve

    settings = Settings.from_env(data_dir=data_dir)
    serve(
        settings,
        None if no_sim else _sim_config(agents, queues, rate, settings.tenant),
        host=host,
        port=port,
        seed=seed,
        desk_agents=desk_agents,
    )


@main.group()
def tokens() -> None:
    """API tokens (only their hashes are stored, in DATA_DIR/tokens.sqlite; never in the log)."""


@tokens.command("issue")
@DATA_DIR
@click.option(
    "--role", required=True, type=click.Choice(["agent", "supervisor", "analyst", "auditor", "admin"])
)
@click.option("--subject", default="", help="Who the token is for (default: the agent id or the role).")
@click.option("--agent", "agent_id", default="", help="The agent an agent token acts as.")
@click.option("--teams", default="", help="Comma-separated teams a supervisor acts on ('*': all).")
@click.option("--tenant", default=None, help="Default: CCX_TENANT or demo.")
def tokens_issue(
    data_dir: str | None, role: str, subject: str, agent_id: str, teams: str, tenant: str | None
) -> None:
    """Issue a token and print it (the only time it is shown)."""
    from ccx.tokens import token_store

    settings = Settings.from_env(data_dir=data_dir)
    store = token_store(settings)
    try:
        click.echo(
            store.issue(
                subject or agent_id or role,
                role,
                tenant or settings.tenant,
                agent_id=agent_id,
                teams=teams.split(","),
            )
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    finally:
        store.close()


@tokens.command("revoke")
@DATA_DIR
@click.argument("subject")
def tokens_revoke(data_dir: str | None, subject: str) -> None:
    """Revoke every token of SUBJECT."""
    from ccx.tokens import token_store

    store = token_store(Settings.from_env(data_dir=data_dir))
    try:
        click.echo(f"revoked {store.revoke_subject(subject)} token(s) of {subject}")
    finally:
        store.close()


@main.command()
@DATA_DIR
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
def api(data_dir: str | None, port: int, host: str) -> None:
    """Serve the API and wallboard from the log (no simulator, no deciders): the production
    read side, one instance per CCX_INSTANCE, each folding its own live statistics under
    its own group (so it never takes the `stats` group of `ccx run stats`)."""
    from ccx.up import serve
    from processors.live_stats import LiveStats
    from processors.trunk_stats import TrunkStats

    settings = Settings.from_env(data_dir=data_dir)
    own: dict[str, Any] = {  # its own live stats and trunk monitor, under its own groups
        "stats": LiveStats(name=f"stats-api-{settings.instance}"),
        "trunks": TrunkStats(name=f"trunks-api-{settings.instance}"),
    }
    serve(settings, None, host=host, port=port, runners=("stats", "trunks"), processors=own)


@main.group()
def topics() -> None:
    """The topic registry on the configured log (see docs/topics.md)."""


def _topics_out(rows: list[dict[str, Any]], as_json: bool) -> None:
    from ccx.topics import render

    click.echo(json.dumps(rows, sort_keys=True) if as_json else render(rows), nl=as_json)


@topics.command("list")
@DATA_DIR
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def topics_list(
    data_dir: str | None, backend: str | None, bootstrap: str | None, namespace: str | None, as_json: bool
) -> None:
    """Each registry topic and how the log has it (partitions, replicas, settings); changes nothing."""
    from ccx.topics import listing

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    _topics_out(listing(settings), as_json)


@topics.command("apply")
@DATA_DIR
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def topics_apply(
    data_dir: str | None, backend: str | None, bootstrap: str | None, namespace: str | None, as_json: bool
) -> None:
    """Create the missing topics from the registry (partitions, replication factor,
    min.insync.replicas, cleanup and retention); fail naming any topic that differs."""
    from ccx.topics import apply
    from streams.ports import TopicMismatch

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    try:
        rows = apply(settings)
    except TopicMismatch as e:
        raise click.ClickException(str(e)) from None
    _topics_out(rows, as_json)


@main.group()
def staffing() -> None:
    """Erlang C, A and B calculators and the staffing plan from history (METRICS.md)."""


def _queue_options(command: Any) -> Any:
    """The options erlang-c and erlang-a share."""
    for option in reversed(
        [
            click.option("--calls", type=float, required=True, help="Calls arriving in the interval."),
            click.option("--interval-s", type=float, required=True, help="Interval length (s)."),
            click.option(
                "--aht-s", type=float, required=True, help="Average handle time, talk+hold+wrap (s)."
            ),
            click.option(
                "--target-sl", type=float, default=0.8, show_default=True, help="Share answered within T."
            ),
            click.option("--threshold-s", type=float, default=20.0, show_default=True, help="T (s)."),
            click.option("--max-asa-s", type=float, default=None, help="Also keep ASA at most this (s)."),
            click.option(
                "--max-occupancy", type=float, default=1.0, show_default=True, help="Occupancy cap (0-1]."
            ),
            click.option("--agents", type=int, default=None, help="Evaluate this many agents instead."),
            click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        ]
    ):
        command = option(command)
    return command


def _queue_command(as_json: bool, **options: Any) -> None:
    from analytics.staffing import StaffingInputError
    from ccx.staffing import bad_option, output, queue_result

    try:
        click.echo(output(queue_result(**options), as_json))
    except StaffingInputError as e:
        raise bad_option(e) from None


@staffing.command("erlang-c")
@_queue_options
def staffing_erlang_c(as_json: bool, **options: Any) -> None:
    """Agents for a service-level target by Erlang C (callers never abandon), or the
    service level, P(wait), ASA and occupancy of --agents K."""
    _queue_command(as_json, **options)


@staffing.command("erlang-a")
@_queue_options
@click.option("--patience-s", type=float, required=True, help="Callers' mean patience (s).")
def staffing_erlang_a(as_json: bool, **options: Any) -> None:
    """Like erlang-c, by Erlang A: callers abandon after an exponential patience."""
    _queue_command(as_json, **options)


@staffing.command("erlang-b")
@click.option("--traffic-erlangs", type=float, default=None, help="Offered traffic (erlangs).")
@click.option("--trunks", type=int, default=None, help="Trunks or IVR ports.")
@click.option("--blocking", type=float, default=None, help="Share of calls blocked, e.g. 0.01.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def staffing_erlang_b(
    traffic_erlangs: float | None, trunks: int | None, blocking: float | None, as_json: bool
) -> None:
    """Trunks (or IVR ports) by Erlang B, from two of --traffic-erlangs, --trunks and --blocking:
    the trunks for a blocking target, the traffic trunks carry at a blocking target, or the
    blocking of trunks at a traffic."""
    from analytics.staffing import StaffingInputError
    from ccx.staffing import bad_option, output, trunk_result

    try:
        click.echo(output(trunk_result(traffic_erlangs, trunks, blocking), as_json))
    except StaffingInputError as e:
        raise bad_option(e) from None


@staffing.command("plan")
@DATA_DIR
@click.option("--interval", default="30m", show_default=True, help="Interval length: 15m, 30m, 1h.")
@click.option("--target-sl", type=float, default=0.8, show_default=True)
@click.option("--threshold-s", type=float, default=20.0, show_default=True)
@click.option(
    "--shrinkage", type=float, default=0.3, show_default=True, help="Share of paid time off the phones."
)
@click.option("--max-occupancy", type=float, default=0.85, show_default=True)
@click.option("--patience-s", type=float, default=None, help="Callers' mean patience (s): Erlang A.")
@click.option("--tenant", default=None, help="Only this tenant's history.")
@click.option("--queue", "queue_id", default=None, help="Only this queue's history.")
@click.option(
    "--tz",
    default="UTC",
    show_default=True,
    help="IANA time zone of the weekdays and interval starts, e.g. Europe/Berlin.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
def staffing_plan(data_dir: str | None, interval: str, fmt: str, **options: Any) -> None:
    """Forecast calls and AHT per weekday x interval from the warehouse's history, then the
    agents each interval needs (Erlang C, or A with --patience-s) and, with shrinkage,
    the agents to schedule. Weekdays and interval starts are local to --tz: on the day
    clocks go back the repeated hour counts twice, on the day they go forward the skipped
    hour does not occur."""
    from analytics.forecast import DAY_S
    from analytics.staffing import StaffingInputError
    from ccx.staffing import bad_option, plan_text
    from telephony.simulator import parse_duration

    try:
        interval_s = parse_duration(interval) / 1000
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--interval") from None
    if interval_s < 60 or interval_s % 60 or DAY_S % interval_s:
        raise click.BadParameter(
            f"must be whole minutes that divide a day (15m, 30m, 1h), not {interval!r}",
            param_hint="--interval",
        )
    settings = Settings.from_env(data_dir=data_dir)
    try:
        click.echo(plan_text(settings, interval_s=int(interval_s), fmt=fmt, **options), nl=False)
    except StaffingInputError as e:
        raise bad_option(e) from None


@main.group("kafka-local")
def kafka_local() -> None:
    """A real Apache Kafka (KRaft) on 127.0.0.1 for local development (see infra/kafka/README.md)."""


@kafka_local.command("start")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (bootstrap, pid, ...).")
@click.option("--brokers", type=click.Choice(["1", "3"]), default="1", show_default=True)
def kafka_local_start(as_json: bool, brokers: str) -> None:
    """Resolve Kafka from Maven Central if needed, start it detached, print where it listens."""
    from ccx.kafka_local import start
    from infra.kafka.local import KafkaLocalError

    try:
        info = start(int(brokers))
    except KafkaLocalError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(info, sort_keys=True))
    else:
        click.echo(
            f"kafka {info['version']} at {info['bootstrap']} (pid {info['pid']}, logs {info['data_dir']})"
        )


@kafka_local.command("stop")
def kafka_local_stop() -> None:
    """Stop the Kafka that `ccx kafka-local start` left running."""
    from ccx.kafka_local import stop

    if not stop():
        click.echo("no local kafka recorded as running", err=True)


@main.group()
def ami() -> None:
    """The Asterisk AMI edge: check recorded AMI streams offline (docs/telephony.md)."""


@ami.command("replay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--tenant", default=None, help="Tenant of the facts [env CCX_TENANT, default demo].")
def ami_replay(file: str, fmt: str, tenant: str | None) -> None:
    """Replay a recorded AMI stream (raw wire text or a JSON list of events) through the
    adapter and print one JSON object per ccx fact; bad frames go to stderr as FILE:LINE:
    reason and the replay goes on. Exit 1 only when FILE cannot be read."""
    from pathlib import Path

    from ccx.ami import replay

    settings = Settings.from_env(tenant=tenant)
    try:
        data = Path(file).read_bytes()
    except OSError as e:
        raise click.ClickException(f"cannot read {file}: {e.strerror or e}") from None
    replay(Path(file), data, settings.tenant, sys.stdout, sys.stderr)


@main.group()
def warehouse() -> None:
    """The warehouse schema (chDB under --data-dir, or CCX_WAREHOUSE_URL for a server)."""


@warehouse.command("migrate")
@DATA_DIR
def warehouse_migrate(data_dir: str | None) -> None:
    """Apply the schema migrations not yet applied (analytics/sql/), in order, and list every
    migration with its state; running it again applies nothing."""
    from analytics.lock import WarehouseBusy
    from analytics.migrations import MigrationError, applied, load, migrate
    from analytics.warehouse import open_warehouse

    settings = Settings.from_env(data_dir=data_dir)
    try:
        wh = open_warehouse(settings.warehouse, migrate=False)
    except WarehouseBusy as e:
        raise click.ClickException(str(e)) from None
    try:
        ran = migrate(wh)
        done = applied(wh)
    except MigrationError as e:
        raise click.ClickException(str(e)) from None
    finally:
        wh.close()
    for m in load():
        state = "applied now" if m.version in ran else ("applied" if m.version in done else "pending")
        click.echo(f"{m.version:>4}  {m.name:<32}{state}")
    click.echo(f"{len(ran)} migration(s) applied")


@main.command()
@DATA_DIR
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per rule.")
def dq(data_dir: str | None, as_json: bool) -> None:
    """Check the warehouse against the data-quality rules (Great Expectations); exit 1 when
    a rule fails: one CDR per finished contact, no negative durations, times in order,
    agent state changes that chain, conservation per queue and interval."""
    import dataclasses

    from analytics.dq import check, render
    from analytics.lock import WarehouseBusy
    from analytics.warehouse import open_warehouse

    settings = Settings.from_env(data_dir=data_dir)
    try:
        warehouse = open_warehouse(settings.warehouse)
    except WarehouseBusy as e:
        raise click.ClickException(str(e)) from None
    try:
        results = check(warehouse)
    finally:
        warehouse.close()
    if as_json:
        for r in results:
            click.echo(json.dumps(dataclasses.asdict(r), sort_keys=True, default=str))
    else:
        click.echo(render(results), nl=False)
    sys.exit(0 if all(r.success for r in results) else 1)


@main.group()
def recordings() -> None:
    """Call recordings: search the catalog rebuilt from the log (docs/recordings.md)."""


@recordings.command("search")
@DATA_DIR
@backend_options
@click.option("--contact", "contact_id", default=None, help="Only this contact's (call id's) recordings.")
@click.option("--agent", "agent_id", default=None, help="Only recordings this agent was on.")
@click.option(
    "--from", "start", default=None, help="Started at or after (ISO, UTC unless given, or epoch ms)."
)
@click.option("--to", "end", default=None, help="Started before (ISO or epoch ms).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--tenant", default=None, help="Tenant [env CCX_TENANT].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per recording.")
def recordings_search(
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    contact_id: str | None,
    agent_id: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    tenant: str | None,
    as_json: bool,
) -> None:
    """Recordings by contact, agent and start time, newest first; exit 1 when none match."""
    from ccx.recordings import as_dicts, catalog_from_log, render
    from processors.recording_catalog import search

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    start_ms, end_ms = _at(start, "--from"), _at(end, "--to")
    found = search(
        catalog_from_log(settings), tenant or settings.tenant, contact_id, agent_id, start_ms, end_ms, limit
    )
    if as_json:
        for row in as_dicts(found):
            click.echo(json.dumps(row, sort_keys=True))
    else:
        click.echo(render(found), nl=False)
    if not found:
        sys.exit(1)


@main.group()
def kb() -> None:
    """The knowledge base: search the published articles rebuilt from the log (docs/knowledge-base.md)."""


@kb.command("search")
@click.argument("query")
@DATA_DIR
@backend_options
@click.option("--category", default=None, help="Only articles of this category.")
@click.option("--tag", default=None, help="Only articles with this tag.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--tenant", default=None, help="Tenant [env CCX_TENANT].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per article.")
def kb_search(
    query: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    category: str | None,
    tag: str | None,
    limit: int,
    tenant: str | None,
    as_json: bool,
) -> None:
    """Published articles for the caller's words, best first (BM25); exit 1 when none match."""
    from analytics.kb_search import KbIndex
    from ccx.kb import as_dicts, library_from_log, render

    settings = Settings.from_env(data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace)
    index = KbIndex.build(library_from_log(settings), tenant or settings.tenant)
    hits = index.search(query, category=category, tag=tag, limit=limit)
    if as_json:
        for row in as_dicts(hits):
            click.echo(json.dumps(row, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(render(hits), nl=False)
    if not hits:
        sys.exit(1)


@main.group()
def customers() -> None:
    """Customer profiles: import, screen pop (docs/customers.md)."""


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@DATA_DIR
@backend_options
@click.option("--tenant", default=None, help="Tenant [env CCX_TENANT].")
@click.option("--region", default="", help="Country of national phone numbers in the file, e.g. DE.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the rejected rows (line, customer_id, field, reason) to this CSV.",
)
@click.option(
    "--no-process", is_flag=True, help="Only append the commands; leave them to the running processor."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def customers_import(
    file: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    tenant: str | None,
    region: str,
    rejects: str | None,
    no_process: bool,
    as_json: bool,
) -> None:
    """Append the customers of FILE (CSV) as DefineCustomer commands; report the rows
    rejected and why (line, field, reason)."""
    from pathlib import Path

    from analytics.customer_import import CsvError
    from ccx.customers import import_customers

    settings = Settings.from_env(
        data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace, tenant=tenant
    )
    try:
        report, summary = import_customers(
            settings,
            Path(file),
            region=region,
            rejects=Path(rejects) if rejects else None,
            process=not no_process,
        )
    except CsvError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
        return
    for key, value in summary.items():
        click.echo(f"{key:>20}: {value}")
    for r in sorted(report.rejected, key=lambda r: r.line):
        click.echo(f"line {r.line}: {r.customer_id or '-'}: {r.field}: {r.reason}", err=True)


@customers.command("erase")
@click.argument("customer_id")
@DATA_DIR
@backend_options
@click.option("--tenant", default=None, help="Tenant [env CCX_TENANT].")
@click.option("--reason", default="", help="Why (e.g. the request's reference); recorded in the event.")
@click.option(
    "--no-process", is_flag=True, help="Only append the command; leave it to the running processor."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def customers_erase(
    customer_id: str,
    data_dir: str | None,
    backend: str | None,
    bootstrap: str | None,
    namespace: str | None,
    tenant: str | None,
    reason: str,
    no_process: bool,
    as_json: bool,
) -> None:
    """Erase CUSTOMER_ID's personal data: delete its keys, append EraseCustomer (docs/adr/0020)."""
    from ccx.customers import EraseError, erase_customer

    settings = Settings.from_env(
        data_dir=data_dir, backend=backend, bootstrap=bootstrap, namespace=namespace, tenant=tenant
    )
    try:
        summary = erase_customer(settings, customer_id, reason, process=not no_process)
    except EraseError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
        return
    for key, value in summary.items():
        click.echo(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
