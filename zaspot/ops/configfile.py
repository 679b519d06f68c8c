"""The config an ops command works on, found as `zaspot run` finds it: `-c FILE`, else
./zaspot.yaml when there is one, else the embedded defaults; `--db` wins over its `db:`."""

from __future__ import annotations

import argparse
from pathlib import Path

from zaspot.config import Config, load

DEFAULT_CONFIG = "zaspot.yaml"


def config_of(args: argparse.Namespace) -> Config:
    path = args.config
    if path is None and Path(DEFAULT_CONFIG).exists():
        path = DEFAULT_CONFIG
    config = load(path)
    if getattr(args, "db", None):
        config.db = args.db
    return config
