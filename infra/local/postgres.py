"""A PostgreSQL cluster for development and tests, run from the distribution's own binaries.

`initdb` once, then `pg_ctl start`/`stop`: no Docker, no system service. PostgreSQL refuses
to run as root, so as root every server command runs as the `postgres` OS user, who owns
the cluster's directory.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

DATABASE = "shaobao"
USER = "shaobao"
_SERVER_USER = "postgres"
_INSTALL_HINT = "install them with `apt-get install -y postgresql`"


def _say(message: str) -> None:
    # Progress for a person at a terminal; stderr keeps stdout for the endpoints.
    print(f"[local postgres] {message}", file=sys.stderr, flush=True)


class LocalPostgresError(RuntimeError):
    """The local PostgreSQL cluster could not be created, started or stopped."""


def find_postgres_bindir() -> Path:
    """Where initdb, pg_ctl and postgres live: `pg_config --bindir`, else the newest Debian version."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)  # noqa: S603
        candidates.append(Path(result.stdout.strip()))
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda path: int(re.sub(r"\D", "", path.parent.name) or 0), reverse=True)
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    raise LocalPostgresError(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; {_INSTALL_HINT}"
    )


class LocalPostgres:
    """One cluster whose data, socket, log and settings live in `state_dir`, listening on loopback only."""

    def __init__(
        self, state_dir: Path, port: int = 55432, host: str = "127.0.0.1", bindir: Path | None = None
    ) -> None:
        # Absolute: the pid check matches the data dir in the postmaster's command line.
        self.state_dir = state_dir.resolve()
        self.port = port
        self.host = host
        self._bindir = bindir
        self.data_dir = self.state_dir / "data"
        self.socket_dir = self.state_dir / "run"
        self.log_file = self.state_dir / "postgres.log"
        self.started_at: datetime | None = None
        self.startup_s: float | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@{self.host}:{self.port}/{DATABASE}"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_postgres_bindir()
        return self._bindir

    def __repr__(self) -> str:
        return f"LocalPostgres({self.host}:{self.port}, state_dir={self.state_dir})"

    def pid(self) -> int | None:
        """The postmaster's pid when this cluster's server is alive, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        # A stale postmaster.pid may name a pid the kernel has since given to someone else.
        return pid if os.fsencode(self.data_dir) in argv else None

    def is_running(self) -> bool:
        """True when this cluster's server is alive and accepts connections on its port."""
        if self.pid() is None:
            return False
        argv = [str(self.bindir / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port), "-t", "5"]
        return subprocess.run(argv, check=False).returncode == 0  # noqa: S603

    def start(self, timeout_s: float = 60.0) -> None:
        """Create the cluster on first use, start it, wait until it accepts connections, add the database."""
        began = time.monotonic()
        running = self.pid()
        if running is not None:
            raise LocalPostgresError(f"{self!r} is already running (pid {running}); see {self.log_file}")
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._write_settings()
        argv = [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file)]
        # -w -t: a server that cannot come up (port taken, damaged data dir) fails the start, not hangs it.
        result = self._run_as_server_user([*argv, "-w", "-t", str(int(timeout_s)), "start"])
        if result.returncode != 0:
            raise LocalPostgresError(f"pg_ctl start failed; {self.log_file} ends with:\n{self._tail()}")
        self._ensure_database()
        self.started_at = datetime.now(UTC)
        self.startup_s = time.monotonic() - began
        _say(f"PostgreSQL ready at {self.url} in {self.startup_s:.1f}s (pid {self.pid()})")

    def stop(self, timeout_s: float = 60.0) -> None:
        """Fast shutdown (disconnect clients, checkpoint); immediate shutdown if that does not finish."""
        pid = self.pid()
        if pid is None:
            return
        _say(f"stopping PostgreSQL (pid {pid})")
        pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", str(int(timeout_s))]
        if self._run_as_server_user([*pg_ctl, "-m", "fast", "stop"]).returncode != 0:
            # A checkpoint stuck on a full disk would keep a fast shutdown waiting forever.
            _say("PostgreSQL did not stop in time; shutting it down immediately")
            if self._run_as_server_user([*pg_ctl, "-m", "immediate", "stop"]).returncode != 0:
                raise LocalPostgresError(f"pg_ctl could not stop {self!r}; see {self.log_file}")

    def _prepare_dirs(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.log_file.touch()
        if os.geteuid() == 0:
            self._check_reachable_by_server_user()
            owner = _server_user()
            for path in (self.state_dir, self.data_dir, self.socket_dir, self.log_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def _check_reachable_by_server_user(self) -> None:
        server_uid = _server_user().pw_uid
        for directory in self.state_dir.resolve().parents:
            status = directory.stat()
            if status.st_uid != server_uid and not status.st_mode & stat.S_IXOTH:
                raise LocalPostgresError(
                    f"the {_SERVER_USER} OS user cannot reach {self.state_dir}: {directory} is not "
                    f"searchable by others (chmod o+x it, or choose another state dir)"
                )

    def _initdb(self) -> None:
        _say(f"creating a PostgreSQL cluster in {self.data_dir}")
        argv = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", USER]
        # --no-sync: a throwaway development cluster need not wait for the disk at creation.
        argv += ["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
        result = self._run_as_server_user(argv)
        if result.returncode != 0:
            raise LocalPostgresError(f"initdb failed:\n{result.stdout}{result.stderr}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude = 'shaobao.conf'\n")

    def _write_settings(self) -> None:
        settings = self.data_dir / "shaobao.conf"
        settings.write_text(
            "# Written by infra/local/postgres.py before every start; edits here are overwritten.\n"
            f"listen_addresses = '{self.host}'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "# A development and test cluster: durability is traded for speed. A crash of the\n"
            "# machine (not of PostgreSQL) can corrupt it; then delete the state dir.\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
        )
        if os.geteuid() == 0:
            owner = _server_user()
            os.chown(settings, owner.pw_uid, owner.pw_gid)

    def _ensure_database(self) -> None:
        connect = ["-h", self.host, "-p", str(self.port), "-U", USER]
        exists = self._run(
            [str(self.bindir / "psql"), "-X", *connect, "-d", "postgres", "-tAc"]
            + [f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"]  # noqa: S608 (a constant)
        )
        if exists.returncode != 0:
            raise LocalPostgresError(f"cannot query {self!r}: {exists.stderr.strip()}")
        if exists.stdout.strip() != "1":
            created = self._run([str(self.bindir / "createdb"), *connect, DATABASE])
            if created.returncode != 0:
                raise LocalPostgresError(f"createdb {DATABASE} failed: {created.stderr.strip()}")

    def _run_as_server_user(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", _server_user().pw_name, "--", *argv]
        return self._run(argv)

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        # cwd: the server user cannot enter root's home, and initdb complains about that.
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        return subprocess.run(argv, cwd=self.state_dir, env=env, capture_output=True, text=True, check=False)  # noqa: S603

    def _tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_SERVER_USER)
    except KeyError:
        raise LocalPostgresError(
            f"running as root, PostgreSQL needs the unprivileged `{_SERVER_USER}` OS user; "
            f"{_INSTALL_HINT} (it creates the user) or run as a normal user"
        ) from None
