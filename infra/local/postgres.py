"""A PostgreSQL cluster for development and tests, run from the distribution's own binaries.

`initdb` once, then `pg_ctl start`/`stop`: no Docker, no system service. PostgreSQL refuses
to run as root, so as root every server command runs as the `postgres` OS user, who owns
the cluster's directory. When that user cannot reach the state dir (a checkout inside
root's home, mode 0700), the cluster lives in a directory of its own under /var/lib/shaobao,
which `cluster.location` in the state dir names.

Clients authenticate like on a real server: SCRAM-SHA-256 over TCP with a password random
per install (`password`, mode 0600); only the cluster's own Unix socket, in a directory
no one else may enter, trusts its caller (the server user and root, who own the files anyway).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

DATABASE = "shaobao"
USER = "shaobao"
_SERVER_USER = "postgres"
CLUSTERS_DIR = Path("/var/lib/shaobao")
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
        self.password_file = self.state_dir / "password"
        self.location_file = self.state_dir / "cluster.location"
        self.cluster_dir = self._cluster_dir()
        self.data_dir = self.cluster_dir / "data"
        self.socket_dir = self.cluster_dir / "run"
        self.log_file = self.cluster_dir / "postgres.log"
        self.started_at: datetime | None = None
        self.startup_s: float | None = None

    def _cluster_dir(self) -> Path:
        """The state dir itself, or the directory a start as root chose because the server user
        could not reach the state dir (and recorded, so every later command finds it)."""
        try:
            return Path(self.location_file.read_text().strip())
        except FileNotFoundError:
            return self.state_dir

    @property
    def password(self) -> str:
        """The `shaobao` role's password, created on first use (mode 0600)."""
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            pass
        self.state_dir.mkdir(parents=True, exist_ok=True)
        staging = self.password_file.with_suffix(".partial")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
        staging.replace(self.password_file)
        return self.password_file.read_text().strip()

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{quote(self.password, safe='')}@{self.host}:{self.port}/{DATABASE}"

    @property
    def url_for_display(self) -> str:
        return f"postgresql://{USER}:***@{self.host}:{self.port}/{DATABASE}"

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
        _say(f"PostgreSQL ready at {self.url_for_display} in {self.startup_s:.1f}s (pid {self.pid()})")

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
        if os.geteuid() == 0 and self.cluster_dir == self.state_dir and not self._reachable_by_server_user():
            self._move_cluster_out_of_reach()
        self.cluster_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        # The socket trusts whoever connects through it: no one but its owner may enter.
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.chmod(0o700)
        self.log_file.touch()
        if os.geteuid() == 0:
            owner = _server_user()
            for path in (self.cluster_dir, self.data_dir, self.socket_dir, self.log_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def _reachable_by_server_user(self) -> bool:
        server_uid = _server_user().pw_uid
        for directory in (self.state_dir, *self.state_dir.parents):
            status = directory.stat()
            if status.st_uid != server_uid and not status.st_mode & stat.S_IXOTH:
                return False
        return True

    def _move_cluster_out_of_reach(self) -> None:
        """As root in a checkout the server user cannot enter: the cluster gets a directory of
        its own, named after the state dir, and the state dir says where it is."""
        digest = hashlib.sha256(os.fsencode(self.state_dir)).hexdigest()[:12]
        # Under /var/lib (root's, not world-writable like /tmp): no one can plant it first.
        self.cluster_dir = CLUSTERS_DIR / f"postgres-{digest}"
        self.data_dir = self.cluster_dir / "data"
        self.socket_dir = self.cluster_dir / "run"
        self.log_file = self.cluster_dir / "postgres.log"
        self.location_file.write_text(f"{self.cluster_dir}\n")
        _say(
            f"the {_SERVER_USER} OS user cannot enter {self.state_dir}; the cluster is in {self.cluster_dir}"
        )

    def remove(self) -> None:
        """Stop the cluster and delete its files, wherever they are (`make clean`)."""
        self.stop()
        if self.cluster_dir != self.state_dir:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)

    def _initdb(self) -> None:
        _say(f"creating a PostgreSQL cluster in {self.data_dir}")
        # The access rules are written before every start (`_write_settings`); until then trust
        # stands for whatever initdb would write.
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
            "password_encryption = 'scram-sha-256'\n"
        )
        access = self.data_dir / "pg_hba.conf"
        access.write_text(
            "# Written by infra/local/postgres.py before every start; edits here are overwritten.\n"
            "# The Unix socket sits in a directory only the server user (and root) may enter.\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            "host all all ::1/128 scram-sha-256\n"
        )
        if os.geteuid() == 0:
            owner = _server_user()
            for path in (settings, access):
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def _ensure_database(self) -> None:
        # Through the socket (trusted): the role's password is (re)set from the state dir first,
        # which also secures a cluster created before passwords were.
        connect = ["-h", str(self.socket_dir), "-p", str(self.port), "-U", USER]
        password = self.password.replace("'", "''")
        secured = self._run(
            [str(self.bindir / "psql"), "-X", *connect, "-d", "postgres", "-qc"]
            + [f"ALTER ROLE {USER} PASSWORD '{password}'"]
        )
        if secured.returncode != 0:
            raise LocalPostgresError(f"cannot set the {USER} role's password: {secured.stderr.strip()}")
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
        return subprocess.run(  # noqa: S603
            argv, cwd=self.cluster_dir, env=env, capture_output=True, text=True, check=False
        )

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
