"""`zaspot backup PATH`, `zaspot restore PATH` and `zaspot doctor`.

Each finds the database as `zaspot run` would: `--db`, else the `db:` of `-c FILE` or of
./zaspot.yaml, else ./zaspot.db. A failure is one line on stderr and exit 1 (2 for a config
that does not load)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from zaspot.config import ConfigError
from zaspot.ops.configfile import DEFAULT_CONFIG, config_of


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", help=f"config file (default: ./{DEFAULT_CONFIG} if present)")
    parser.add_argument("--db", help="database file (default: the config's db:, else ./zaspot.db)")


def _cmd_backup(args: argparse.Namespace) -> int:
    from zaspot.ops.backup import backup

    return _report(args, lambda db: backup(db, args.path, force=args.force))


def _cmd_restore(args: argparse.Namespace) -> int:
    from zaspot.ops.backup import restore

    return _report(args, lambda db: restore(args.path, db))


def _report(args: argparse.Namespace, work: Callable[[str], str]) -> int:
    from zaspot.ops.database import DatabaseUnusable

    try:
        db = config_of(args).db
    except ConfigError as exc:
        print(f"zaspot: {exc}", file=sys.stderr)
        return 2
    try:
        print(work(db))
    except (DatabaseUnusable, OSError) as exc:
        text = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"zaspot: {text}", file=sys.stderr)
        return 1
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from zaspot.ops.doctor import run_doctor

    return run_doctor(args)


def configure(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="a consistent copy of the database, also while zaspot runs")
    backup.add_argument("path", metavar="PATH", help="the backup file to write (or a folder: a dated file in it)")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    _options(backup)
    backup.set_defaults(func=_cmd_backup)

    restore = sub.add_parser("restore", help="put a backup in place of the database (zaspot stopped); "
                                             "the replaced one is kept beside it")
    restore.add_argument("path", metavar="PATH", help="the backup file")
    _options(restore)
    restore.set_defaults(func=_cmd_restore)

    doctor = sub.add_parser("doctor", help="check config, database, port, certificate, rules folder and clock")
    _options(doctor)
    doctor.set_defaults(func=_cmd_doctor)
