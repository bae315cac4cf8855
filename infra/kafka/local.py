"""A real Apache Kafka (KRaft, no ZooKeeper) on 127.0.0.1, without Docker.

The broker is resolved from Maven Central with the machine's Maven (``pom.xml`` beside this file) into a
cache outside the repository, then started as plain JVM processes::

    java -cp "<lib>/*" kafka.Kafka <node>/server.properties

Each node runs in KRaft *combined* mode (``process.roles=broker,controller``) with a static voter set, so
the same code starts one broker or a 3-broker cluster (every node is also a controller: losing one of
three keeps the quorum). See ``README.md`` beside this file for the layout, the ports and the logs.

Nothing here downloads anything once the jars are cached.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "DEFAULT_VERSION",
    "KafkaInfo",
    "KafkaLocalError",
    "LocalKafka",
    "ensure_kafka",
    "kafka_home",
    "load_state",
    "state_file",
    "state_running",
    "stop_from_state",
]

DEFAULT_VERSION = "4.1.1"
POM = Path(__file__).with_name("pom.xml")
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
READY_LINE = "Kafka Server started"
_COMPLETE = ".ccx-complete"

Progress = Callable[[str], None]


class KafkaLocalError(RuntimeError):
    """Resolving, starting or stopping the local Kafka failed (the message says why, with log tails)."""


def _stderr(msg: str) -> None:
    print(f"[kafka-local] {msg}", file=sys.stderr, flush=True)


# ---- where things live ---------------------------------------------------------------------------


def kafka_version() -> str:
    return os.environ.get("CCX_KAFKA_VERSION", DEFAULT_VERSION)


def kafka_home(version: str | None = None) -> Path:
    """The cache for one Kafka version: ``$CCX_KAFKA_HOME`` or ``~/.cache/ccx/kafka/<version>``."""
    env = os.environ.get("CCX_KAFKA_HOME")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ccx" / "kafka" / (version or kafka_version())


def state_file() -> Path:
    """Where ``ccx kafka-local start`` records what it left running: ``$CCX_KAFKA_STATE`` or
    ``<kafka_home>/local-state.json``."""
    env = os.environ.get("CCX_KAFKA_STATE")
    return Path(env).expanduser() if env else kafka_home() / "local-state.json"


# ---- resolving the jars --------------------------------------------------------------------------


def _lib_complete(lib: Path) -> bool:
    return (lib / _COMPLETE).is_file() and any(lib.glob("kafka_2.13-*.jar"))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_kafka(version: str | None = None, progress: Progress | None = _stderr) -> Path:
    """Return the directory holding the broker's jars, resolving them with ``mvn`` the first time.

    Idempotent and safe to call from concurrent processes (a file lock serialises the resolution).
    """
    version = version or kafka_version()
    say = progress or (lambda _m: None)
    home = kafka_home(version)
    lib = home / "lib"
    if _lib_complete(lib):
        return lib
    with _file_lock(home / ".resolve.lock"):
        if _lib_complete(lib):
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaLocalError(
                "Maven (mvn) is not on PATH; it resolves the Kafka broker from Maven Central. "
                "Install Java and Maven: sudo infra/kafka/ensure-java.sh"
            )
        if shutil.which("java") is None:
            raise KafkaLocalError("java is not on PATH; install it: sudo infra/kafka/ensure-java.sh")
        if not POM.is_file():
            raise KafkaLocalError(f"{POM} is missing (install ccx editable: pip install -e .)")
        tmp = home / f"lib.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [
            mvn,
            "-B",
            "-f",
            str(POM),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
        ]
        say(f"resolving Apache Kafka {version} from Maven Central with mvn into {lib} (first time only)")
        t0 = time.monotonic()
        tail: deque[str] = deque(maxlen=40)
        downloads = 0
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail.append(line)
            if "Downloaded from" in line:
                downloads += 1
                if downloads % 25 == 0:
                    say(f"  ... {downloads} artifacts downloaded ({time.monotonic() - t0:.0f} s)")
            elif "maven-dependency-plugin" in line and "copy-dependencies" in line:
                say("  copying the broker's jars")
        rc = proc.wait()
        if rc != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise KafkaLocalError(
                f"mvn failed (exit {rc}) resolving org.apache.kafka:kafka_2.13:{version}:\n" + "\n".join(tail)
            )
        jars = sorted(p.name for p in tmp.glob("*.jar"))
        if not any(j.startswith("kafka_2.13-") for j in jars):
            raise KafkaLocalError(f"mvn succeeded but no kafka_2.13 jar landed in {tmp}")
        (tmp / _COMPLETE).write_text(json.dumps({"version": version, "jars": jars}, indent=1) + "\n")
        shutil.rmtree(lib, ignore_errors=True)
        tmp.rename(lib)
        say(f"resolved {len(jars)} jars ({downloads} downloads) in {time.monotonic() - t0:.1f} s")
        return lib


# ---- configuration -------------------------------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # would read as an option on the StorageTool command line
            return cid


def _server_properties(node_id: int, port: int, cport: int, voters: str, data: Path, n: int) -> str:
    rf = 3 if n >= 3 else 1
    min_isr = 2 if n >= 3 else 1
    props = {
        "process.roles": "broker,controller",
        "node.id": node_id,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": data,
        "num.partitions": 6,
        "default.replication.factor": rf,
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": 0,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": 6,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": 6,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min_isr,
        # detect a dead broker quickly in the fault tests (defaults: 9 s / 2 s / 30 s)
        "broker.session.timeout.ms": 6000,
        "broker.heartbeat.interval.ms": 1000,
        "replica.lag.time.max.ms": 10000,
        "num.network.threads": 2,
        "num.io.threads": 4,
        "log.retention.check.interval.ms": 60000,
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _log4j2_properties(server: Path) -> str:
    return f"""status = warn
name = ccx-kafka
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {server}
appender.file.filePattern = {server}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


def _tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return f"({path} not found)"
    return "\n".join(data.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _pid_is_our_broker(pid: int, data_dir: str) -> bool:
    """Guard against PID reuse: the process must be a kafka.Kafka JVM using a config under data_dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode("utf-8", "replace") for a in cmdline]
    return MAIN_CLASS in args and any(a.startswith(data_dir) for a in args)


# ---- the nodes -----------------------------------------------------------------------------------


@dataclass
class _Node:
    index: int
    node_id: int
    port: int
    cport: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    log_offset: int = 0  # size of server.log at the last launch: readiness is looked for after it

    @property
    def config(self) -> Path:
        return self.dir / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.dir / "logs" / "server.log"

    @property
    def stdout_file(self) -> Path:
        return self.dir / "logs" / "stdout.log"

    def started_line_seen(self) -> bool:
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(self.log_offset)
                return READY_LINE.encode() in fh.read()
        except OSError:
            return False

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_alive(self.pid)


@dataclass
class KafkaInfo:
    """What a started LocalKafka is: ``bootstrap`` is ``127.0.0.1:port[,127.0.0.1:port...]``."""

    bootstrap: str
    pids: list[int]
    data_dir: str
    log_files: list[str]
    brokers: int
    version: str
    ports: list[int] = field(default_factory=list)
    controller_ports: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.pids[0]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pid"] = self.pid
        return d


class LocalKafka:
    """One broker or a 3-broker KRaft cluster on loopback.

    ``LocalKafka(brokers=1|3, data_dir=None)``; ``start()`` returns a :class:`KafkaInfo`; ``stop()``;
    ``stop_broker(i)`` / ``start_broker(i)`` (``i`` is 0-based) for fault tests; usable as a context
    manager. With ``data_dir=None`` a temporary directory is used and removed by ``stop()``.
    With ``detach=True`` the JVMs run in their own session (they outlive this process, see the CLI).
    """

    def __init__(
        self,
        brokers: int = 1,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        version: str | None = None,
        heap_mb: int | None = None,
        start_timeout: float | None = None,
        detach: bool = False,
        progress: Progress | None = _stderr,
    ) -> None:
        if brokers not in (1, 3):
            raise ValueError("brokers must be 1 or 3")
        self.brokers = brokers
        self.version = version or kafka_version()
        self.heap_mb = heap_mb or (512 if brokers == 1 else 384)
        self.start_timeout = start_timeout or float(os.environ.get("CCX_KAFKA_START_TIMEOUT", "120"))
        self.detach = detach
        self._say = progress or (lambda _m: None)
        self._owns_dir = data_dir is None
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._nodes: list[_Node] = []
        self._lib: Path | None = None
        self.info: KafkaInfo | None = None

    # -- public ---------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        if self.info is None:
            raise KafkaLocalError("not started")
        return self.info.bootstrap

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise KafkaLocalError("not started")
        return self._data_dir

    def broker_bootstrap(self, i: int) -> str:
        return f"127.0.0.1:{self._nodes[i].port}"

    def start(self) -> KafkaInfo:
        if self.info is not None:
            return self.info
        self._lib = ensure_kafka(self.version, self._say)
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="ccx-kafka-"))
        self._data_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        try:
            for attempt in range(3):
                self._configure()
                self._format()
                for node in self._nodes:
                    self._launch(node)
                try:
                    self._wait_ready(list(range(self.brokers)))
                    break
                except KafkaLocalError as e:
                    self._kill_all()
                    if attempt < 2 and self._port_clash():
                        self._say("a port was taken meanwhile; retrying on new ports")
                        self._wipe_nodes()
                        continue
                    raise e
        except BaseException:
            self._kill_all()
            raise
        self.info = self._make_info()
        self._say(
            f"{self.brokers} broker(s) ready at {self.info.bootstrap} in {time.monotonic() - t0:.1f} s "
            f"(logs: {self._data_dir})"
        )
        return self.info

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every node, wait up to ``timeout`` s, then SIGKILL; remove a temporary data dir."""
        for node in self._nodes:
            self._signal(node, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self._nodes:
            self._wait_exit(node, max(0.0, deadline - time.monotonic()))
        self._nodes_done()
        if self._owns_dir and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
        self.info = None

    def stop_broker(self, i: int, *, kill: bool = False, timeout: float = 30.0) -> None:
        """Stop node ``i`` (0-based): a clean SIGTERM (controlled shutdown) or, with ``kill``, SIGKILL."""
        node = self._nodes[i]
        self._signal(node, signal.SIGKILL if kill else signal.SIGTERM)
        self._wait_exit(node, timeout)
        self._refresh_info()

    def start_broker(self, i: int) -> None:
        """Start node ``i`` again on the same ports and data, and wait until it is back in the cluster."""
        node = self._nodes[i]
        if node.alive():
            return
        self._launch(node)
        self._wait_ready([i])
        self._refresh_info()

    def broker_alive(self, i: int) -> bool:
        return self._nodes[i].alive()

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state file (for `ccx kafka-local stop` from another process) ---------------------------

    def write_state(self, path: Path | None = None) -> Path:
        info = self._make_info()
        path = path or state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = info.to_dict() | {"owns_data_dir": self._owns_dir}
        path.write_text(json.dumps(data, indent=1) + "\n")
        return path

    # -- internals ------------------------------------------------------------------------------

    def _configure(self) -> None:
        assert self._data_dir is not None
        ports = _free_ports(2 * self.brokers)
        self._nodes = [
            _Node(i, i + 1, ports[2 * i], ports[2 * i + 1], self._data_dir / f"node-{i + 1}")
            for i in range(self.brokers)
        ]
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.cport}" for n in self._nodes)
        for node in self._nodes:
            (node.dir / "logs").mkdir(parents=True, exist_ok=True)
            node.config.write_text(
                _server_properties(
                    node.node_id, node.port, node.cport, voters, node.dir / "data", self.brokers
                )
            )
            (node.dir / "log4j2.properties").write_text(_log4j2_properties(node.dir / "logs" / "server.log"))
            (node.dir / "log4j2-tools.properties").write_text(
                _log4j2_properties(node.dir / "logs" / "format.log")
            )

    def _wipe_nodes(self) -> None:
        for node in self._nodes:
            shutil.rmtree(node.dir, ignore_errors=True)

    def _java(self, node: _Node, heap_mb: int, log4j: Path | None = None) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise KafkaLocalError("java is not on PATH; install it: sudo infra/kafka/ensure-java.sh")
        assert self._lib is not None
        return [
            java,
            f"-Xmx{heap_mb}m",
            f"-Xms{min(heap_mb, 128)}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j or node.dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={node.dir / 'logs'}",
            "-cp",
            f"{self._lib}/*",
        ]

    def _format(self) -> None:
        cluster_id = _cluster_id()
        procs: list[tuple[_Node, subprocess.Popen[bytes], Path]] = []
        for node in self._nodes:
            if (node.dir / "data" / "meta.properties").exists():
                continue
            out = node.dir / "logs" / "format.out"
            with out.open("wb") as fh:
                cmd = [
                    *self._java(node, 256, log4j=node.dir / "log4j2-tools.properties"),
                    "-XX:TieredStopAtLevel=1",  # a short-lived tool: start fast, no need to optimise
                    STORAGE_TOOL,
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(node.config),
                ]
                procs.append((node, subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT), out))
        for node, proc, out in procs:
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -9
            if rc != 0:
                raise KafkaLocalError(f"formatting node {node.node_id} failed (exit {rc}):\n{_tail(out)}")

    def _launch(self, node: _Node) -> None:
        cmd = [*self._java(node, self.heap_mb), MAIN_CLASS, str(node.config)]
        node.log_offset = node.log_file.stat().st_size if node.log_file.exists() else 0
        with node.stdout_file.open("ab") as fh:
            node.proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=self.detach,
                close_fds=True,
            )
        node.pid = node.proc.pid

    def _wait_ready(self, indexes: list[int]) -> None:
        deadline = time.monotonic() + self.start_timeout
        nodes = [self._nodes[i] for i in indexes]
        pending = list(nodes)
        while pending:
            for node in list(pending):
                if not node.alive():
                    raise KafkaLocalError(self._failure(f"broker {node.node_id} exited during start", node))
                if _tcp_ok(node.port) and node.started_line_seen():
                    pending.remove(node)
            if pending:
                if time.monotonic() > deadline:
                    raise KafkaLocalError(self._failure("timed out waiting for the broker", pending[0]))
                time.sleep(0.1)
        # a metadata request through a real client must see every live broker
        want = {n.node_id for n in self._nodes if n.alive()}
        while True:
            seen = _metadata_brokers(",".join(f"127.0.0.1:{n.port}" for n in nodes))
            if seen is None or want <= seen:
                return
            if time.monotonic() > deadline:
                raise KafkaLocalError(
                    self._failure(f"metadata shows brokers {sorted(seen)}, want {sorted(want)}", nodes[0])
                )
            time.sleep(0.2)

    def _failure(self, what: str, node: _Node) -> str:
        return (
            f"{what} after {self.start_timeout:.0f} s or less (node {node.node_id}, "
            f"port {node.port}, controller port {node.cport}).\n"
            f"--- tail of {node.log_file} ---\n{_tail(node.log_file)}\n"
            f"--- tail of {node.stdout_file} ---\n{_tail(node.stdout_file, 20)}"
        )

    def _port_clash(self) -> bool:
        return any("Address already in use" in _tail(n.log_file, 400) for n in self._nodes)

    def _signal(self, node: _Node, sig: int) -> None:
        if node.pid is not None and node.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, sig)

    def _wait_exit(self, node: _Node, timeout: float) -> None:
        if node.pid is None:
            return
        if node.proc is not None:
            try:
                node.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._say(f"broker {node.node_id} did not stop in {timeout:.0f} s; SIGKILL")
                node.proc.kill()
                node.proc.wait()
            return
        deadline = time.monotonic() + timeout
        while _pid_alive(node.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_alive(node.pid):
            self._say(f"broker {node.node_id} (pid {node.pid}) did not stop in {timeout:.0f} s; SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, signal.SIGKILL)
            while _pid_alive(node.pid):
                time.sleep(0.05)

    def _kill_all(self) -> None:
        for node in self._nodes:
            self._signal(node, signal.SIGKILL)
            self._wait_exit(node, 10)

    def _nodes_done(self) -> None:
        for node in self._nodes:
            node.proc = None

    def _make_info(self) -> KafkaInfo:
        assert self._data_dir is not None
        return KafkaInfo(
            bootstrap=",".join(f"127.0.0.1:{n.port}" for n in self._nodes),
            pids=[n.pid or 0 for n in self._nodes],
            data_dir=str(self._data_dir),
            log_files=[str(n.log_file) for n in self._nodes],
            brokers=self.brokers,
            version=self.version,
            ports=[n.port for n in self._nodes],
            controller_ports=[n.cport for n in self._nodes],
        )

    def _refresh_info(self) -> None:
        if self.info is not None:
            self.info = self._make_info()


def _tcp_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _metadata_brokers(bootstrap: str) -> set[int] | None:
    """Broker ids in a metadata response, or None when confluent-kafka is not installed."""
    try:
        from confluent_kafka.admin import AdminClient
    except ImportError:
        return None
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 3000})
    try:
        md = admin.list_topics(timeout=3)
    except Exception:
        return set()
    return set(md.brokers)


# ---- the detached mode the CLI uses --------------------------------------------------------------


def load_state(path: Path | None = None) -> dict[str, Any] | None:
    path = path or state_file()
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def state_running(state: dict[str, Any]) -> bool:
    return any(
        _pid_alive(int(p)) and _pid_is_our_broker(int(p), str(state["data_dir"])) for p in state["pids"]
    )


def stop_from_state(
    path: Path | None = None, timeout: float = 20.0, progress: Progress | None = _stderr
) -> bool:
    """Stop what a detached start recorded in the state file; False when nothing was recorded."""
    say = progress or (lambda _m: None)
    path = path or state_file()
    state = load_state(path)
    if state is None:
        return False
    data_dir = str(state["data_dir"])
    pids = [int(p) for p in state["pids"] if _pid_alive(int(p)) and _pid_is_our_broker(int(p), data_dir)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if _pid_alive(pid):
            say(f"pid {pid} did not stop in {timeout:.0f} s; SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    while any(_pid_alive(p) for p in pids):
        time.sleep(0.05)
    if state.get("owns_data_dir"):
        shutil.rmtree(data_dir, ignore_errors=True)
    path.unlink(missing_ok=True)
    say(f"stopped {len(pids)} broker process(es)")
    return True
