"""`zaspot doctor [-c zaspot.yaml]`: is this box ready to run zaspot (or running it well)?

One line per check: config, database, port, tls, rules, clock; `ok`, `warn` or `FAIL`, and
exit 1 when one fails. It changes nothing zaspot keeps (no database is created or migrated;
its connections refuse writes), so it is safe beside a running zaspot.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from zaspot.config import Config, ConfigError
from zaspot.ops import procs
from zaspot.ops.configfile import config_of
from zaspot.ops.database import (
    DatabaseUnusable,
    check_database,
    connect_read_only,
    is_memory,
    schema_version,
)
from zaspot.store.schema import SCHEMA_VERSION

MIN_FREE = 100e6  # below this a busy zaspot fills the disk within hours: a failure
LOW_FREE = 1e9
CERT_WARN_DAYS = 30
CLOCK_SLACK = 60.0  # s: what zaspot wrote a moment ago may be this far "ahead" of us
EARLIEST = 1_700_000_000  # 2023-11: a clock before zaspot existed was never set (a board without RTC)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # ok | warn | FAIL | skip
    text: str

    def line(self) -> str:
        return f"{self.status:<5} {self.name:<9} {self.text}"


def ok(name: str, text: str) -> Check:
    return Check(name, "ok", text)


def warn(name: str, text: str) -> Check:
    return Check(name, "warn", text)


def fail(name: str, text: str) -> Check:
    return Check(name, "FAIL", text)


def run_doctor(args: argparse.Namespace) -> int:
    failed = warned = 0
    for check in diagnose(args):
        print(check.line(), flush=True)
        failed += check.status == "FAIL"
        warned += check.status == "warn"
    summary = "all checks ok" if not (failed or warned) else \
        f"{failed} failed, {warned} warning{'s' if warned != 1 else ''}"
    print(f"doctor: {summary}", file=sys.stderr)
    return 1 if failed else 0


def diagnose(args: argparse.Namespace) -> Iterator[Check]:
    try:
        config = config_of(args)
    except ConfigError as exc:
        yield fail("config", str(exc))
        for name in ("database", "port", "tls", "rules", "clock"):
            yield Check(name, "skip", "the config does not load")
        return
    yield check_config(config)
    steps: list[Callable[[Config], Check]] = [check_database_file, check_port, check_tls, check_rules, check_clock]
    for step in steps:
        try:
            yield step(config)
        except Exception as exc:  # noqa: BLE001  (a check that breaks is a finding, not a traceback)
            yield fail(step.__name__.removeprefix("check_").split("_")[0], f"could not check: {exc!r}")


def check_config(config: Config) -> Check:
    if config.source == "<defaults>":
        return ok("config", "no zaspot.yaml here: the built-in defaults (port 9000, ./zaspot.db, ./rules)")
    return ok("config", f"{config.source} loads ({len(config.stations)} stations listed)")


# --- database -------------------------------------------------------------------------


def _free_bytes(path: Path) -> float:
    while not path.exists():
        path = path.parent
    return float(shutil.disk_usage(path).free)


def _size(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def check_database_file(config: Config) -> Check:
    if is_memory(config.db):
        return ok("database", "in memory: nothing is kept")
    db = Path(config.db).expanduser().absolute()
    try:
        check_database(db, create_folder=False)
    except DatabaseUnusable as exc:
        return fail("database", str(exc))
    free = _free_bytes(db)
    if not db.exists():
        return ok("database", f"{db} does not exist yet: zaspot run creates it ({_size(free)} free)")
    version = schema_version(db) or 0
    with contextlib.closing(connect_read_only(db)) as conn:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        return fail("database", f"{db}: damaged (quick_check: {'; '.join(rows[:2])}): zaspot restore a backup")
    schema = f"schema version {version} (current)" if version == SCHEMA_VERSION else \
        f"schema version {version}, zaspot run migrates it forward to {SCHEMA_VERSION} (zaspot backup first)"
    holders = procs.holding(db)
    open_by = f", open in {', '.join(map(str, holders))}" if holders else ""
    text = f"{db}: {schema}, quick_check ok, writable, {_size(db.stat().st_size)}, {_size(free)} free{open_by}"
    if free < MIN_FREE:
        return fail("database", f"{text}: too little free disk")
    if free < LOW_FREE:
        return warn("database", f"{text}: free disk is low")
    return ok("database", text)


# --- port -----------------------------------------------------------------------------


def _bind_error(host: str, port: int) -> OSError | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server listens
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc
    return None


def _zaspot_answers(port: int, tls: bool) -> bool:
    scheme = "https" if tls else "http"
    context = None
    if tls:  # who answers, not whom to trust
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/healthz", timeout=3, context=context) as r:
            return "up" in orjson.loads(r.read())
    except urllib.error.HTTPError as exc:  # 503: a zaspot whose database is failing
        with contextlib.suppress(orjson.JSONDecodeError):
            return "up" in orjson.loads(exc.read())
        return False
    except (OSError, ValueError, orjson.JSONDecodeError):
        return False


def _port_finding(host: str, port: int, tls: bool) -> tuple[str, str]:
    """(status, words) for one port zaspot wants to listen on."""
    error = _bind_error(host, port)
    if error is None:
        return "ok", f"{port} free"
    holders = procs.listening(port)
    who = ", ".join(map(str, holders)) or "a process this user cannot see"
    if error.errno == errno.EADDRINUSE:
        if (not holders or any(h.is_zaspot for h in holders)) and _zaspot_answers(port, tls):
            return "ok", f"{port}: a zaspot is running on it ({who}) and /healthz answers"
        return "FAIL", f"{port}: in use by {who}: zaspot run cannot listen on it"
    if error.errno == errno.EACCES:
        return "FAIL", f"{port}: below 1024 needs root or CAP_NET_BIND_SERVICE ({error.strerror})"
    return "FAIL", f"{host}:{port}: cannot listen ({error.strerror})"


def check_port(config: Config) -> Check:
    if config.port == 0:
        return ok("port", "0: any free port at each start")
    status, text = _port_finding(config.host, config.port, config.tls is not None)
    files_port = config.files.port if config.files.port is not None else config.port + 1
    if files_port and files_port < 65536:
        files_status, files_text = _port_finding(config.files.host, files_port, False)
        if files_status == "FAIL" and "zaspot is running" in text:
            files_status, files_text = "ok", f"{files_port} in use by that zaspot"
        elif files_status == "FAIL" and config.files.port is None:
            files_status = "warn"  # the endpoint takes any free port then (and logs it)
            files_text += ": the files endpoint takes any free port instead"
        text += f"; files endpoint {files_text}"
        status = max(status, files_status, key=["ok", "warn", "FAIL"].index)
    return Check("port", status, text)


# --- tls ------------------------------------------------------------------------------


def _not_after(cert: str) -> float | None:
    """The certificate's expiry (seconds since the epoch), None when openssl is not there."""
    if shutil.which("openssl") is None:
        return None
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", cert],
                         capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0 or "=" not in out.stdout:
        raise ValueError(out.stderr.strip() or "openssl cannot read it")
    return ssl.cert_time_to_seconds(out.stdout.strip().split("=", 1)[1])


def check_tls(config: Config) -> Check:
    from zaspot.ocpp.security import tls_context

    if config.tls is None:
        return ok("tls", "not configured: stations connect with ws:// (no wss://)")
    try:
        tls_context(config)
    except ConfigError as exc:
        return fail("tls", str(exc))
    try:
        expires = _not_after(config.tls.cert)
    except (ValueError, OSError, subprocess.SubprocessError) as exc:
        return fail("tls", f"{config.tls.cert}: cannot read its expiry: {exc}")
    if expires is None:
        return ok("tls", f"{config.tls.cert} loads (expiry not checked: no openssl command here)")
    days = (expires - time.time()) / 86400
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires))
    if days < 0:
        return fail("tls", f"{config.tls.cert} expired on {when}: stations refuse the connection")
    text = f"{config.tls.cert} expires on {when}, in {days:.0f} day{'s' if round(days) != 1 else ''}"
    return warn("tls", f"{text}: renew it") if days < CERT_WARN_DAYS else ok("tls", text)


# --- rules ----------------------------------------------------------------------------


def check_rules(config: Config) -> Check:
    from zaspot.core.registry import ACTION
    from zaspot.rules import rules_folder
    from zaspot.rules.catalog import offline_registry
    from zaspot.rules.loader import Loader, check_paths, rule_files
    from zaspot.rules.reload import missing_folder_warning
    from zaspot.rules.triggers import platforms

    folder = rules_folder(config).absolute()
    warning = missing_folder_warning(folder)
    if warning:
        return warn("rules", warning)
    registry = offline_registry()
    loader = Loader(platforms(registry), lambda name: getattr(registry.get(ACTION, name), "obj", None))
    rules, errors = check_paths([folder], loader)
    files = len(rule_files([folder]))
    counts = (f"{len(rules)} rule{'s' if len(rules) != 1 else ''} OK in {files} file{'s' if files != 1 else ''}"
              f" ({folder})")
    if errors:
        more = f" (and {len(errors) - 1} more: zaspot rules check {folder})" if len(errors) > 1 else ""
        return fail("rules", f"{counts}, {len(errors)} error{'s' if len(errors) != 1 else ''}: {errors[0]}{more}")
    return ok("rules", counts)


# --- clock ----------------------------------------------------------------------------

_NEWEST_WRITTEN = (  # times zaspot itself took from this clock (stations stamp their own events)
    "SELECT MAX(t) FROM (SELECT MAX(last_seen) AS t FROM stations UNION ALL "
    "SELECT MAX(sent_at) FROM commands UNION ALL SELECT MAX(updated_at) FROM consumer_positions)"
)


def _ntp_synchronized() -> str:
    """What systemd says about NTP here (offline: the question is whether this box synced)."""
    if shutil.which("timedatectl") is None:
        return "NTP sync unknown (no timedatectl)"
    try:
        out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return "NTP sync unknown"
    value = out.stdout.strip()
    known = {"yes": "NTP synchronized", "no": "NTP not synchronized"}
    return known.get(value, "NTP sync unknown (timedatectl cannot tell)")


def _newest_written(config: Config) -> float | None:
    db = Path(config.db).expanduser().absolute()
    if is_memory(config.db) or not db.exists():
        return None
    with contextlib.closing(connect_read_only(db)) as conn:
        try:
            return conn.execute(_NEWEST_WRITTEN).fetchone()[0]
        except sqlite3.Error:  # an empty or foreign database: nothing to compare with
            return None


def check_clock(config: Config) -> Check:
    now = time.time()
    ntp = _ntp_synchronized()
    text = f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(now))}, {ntp}"
    if now < EARLIEST:
        return fail("clock", f"{text}: this clock was never set (set the time or start NTP)")
    newest = _newest_written(config)
    if newest is not None and newest > now + CLOCK_SLACK:
        ahead = newest - now
        return fail("clock", f"{text}: the database has times up to "
                             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(newest))}, {_span(ahead)} ahead "
                             "of this clock: it was set back (or ran ahead); uptime, sessions and rules go wrong")
    seen = "" if newest is None else ", the newest time in the database is before it"
    return Check("clock", "warn" if ntp == "NTP not synchronized" else "ok", f"{text}{seen}")


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min"
