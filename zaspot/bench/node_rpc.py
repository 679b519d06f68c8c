"""The Node.js `ocpp-rpc` baseline: installed from the npm registry the first time it is
asked for, into a cache folder, and run from there.

    argv = server_argv("127.0.0.1", 9300)   # installs once; ["node", ".../server.js", ...]

The cache is `$ZASPOT_BENCH_CACHE`, else `$XDG_CACHE_HOME/zaspot`, else `~/.cache/zaspot`;
the install goes to `node-ocpp-rpc-<version>` in it (`npm ci` from the package-lock.json
that ships with zaspot, so every machine runs the same ocpp-rpc, ajv and ws). Without
Node.js 18+ and npm, or when the install fails, NodeUnavailable says why in one line.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("node_rpc")      # server.js, package.json, package-lock.json
FILES = ("server.js", "package.json", "package-lock.json")
MIN_NODE = 18
INSTALL_TIMEOUT_S = 300.0
_MARK = ".installed"   # holds the digest of the files the install was made from


class NodeUnavailable(RuntimeError):
    """Node.js or npm is missing, too old, or the install failed (the message is one line)."""


def version() -> str:
    """The pinned ocpp-rpc version (package.json)."""
    return json.loads((SOURCE / "package.json").read_text(encoding="utf-8"))["dependencies"]["ocpp-rpc"]


def cache_root() -> Path:
    explicit = os.environ.get("ZASPOT_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "zaspot" if base else Path.home() / ".cache" / "zaspot"


def install_dir(cache: Path | None = None) -> Path:
    return (cache or cache_root()) / f"node-ocpp-rpc-{version()}"


def _digest() -> str:
    h = hashlib.sha256()
    for name in FILES:
        h.update((SOURCE / name).read_bytes())
    return h.hexdigest()


def describe() -> str:
    """What the node target is, for the bench's table."""
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        node = "?"
    return f"ocpp-rpc {version()} on Node.js {node}, strict schema validation, nothing stored"


def check_node() -> tuple[str, str]:
    """Paths of node and npm, or NodeUnavailable."""
    need = f"Node.js {MIN_NODE}+ and npm are needed for the ocpp-rpc baseline"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeUnavailable(f"{need} ({'node' if node is None else 'npm'} not found on PATH)")
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise NodeUnavailable(f"{need} ({node} --version failed: {exc})") from None
    m = re.match(r"v(\d+)\.", out)
    if not m or int(m.group(1)) < MIN_NODE:
        raise NodeUnavailable(f"{need} (found {out or 'an unknown version'} at {node})")
    return node, npm


def installed(cache: Path | None = None) -> bool:
    """True when the cache holds an install made from the files zaspot ships now."""
    mark = install_dir(cache) / _MARK
    return mark.is_file() and mark.read_text(encoding="ascii").strip() == _digest()


def ensure_installed(cache: Path | None = None) -> tuple[str, Path]:
    """node's path and the install folder, after installing it there if it is not yet
    (npm ci, once)."""
    node, npm = check_node()
    dest = install_dir(cache)
    if installed(cache):
        return node, dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Install beside the destination, then move it in: an interrupted install, or
    # two benches at once, never leave a half-filled folder that looks finished.
    work = Path(tempfile.mkdtemp(prefix=f"{dest.name}.", dir=dest.parent))
    try:
        work.chmod(0o755)                # mkdtemp's 0700 would hide it from other users
        for name in FILES:
            shutil.copyfile(SOURCE / name, work / name)
        _npm_ci(npm, work)
        (work / _MARK).write_text(_digest() + "\n", encoding="ascii")
        if dest.exists() and not installed(cache):
            shutil.rmtree(dest)          # an install from other files (an older zaspot)
        if not dest.exists():
            work.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return node, dest


def _npm_ci(npm: str, folder: Path) -> None:
    cmd = [npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise NodeUnavailable(f"npm ci of ocpp-rpc {version()} took over {INSTALL_TIMEOUT_S:.0f}s") from None
    except OSError as exc:
        raise NodeUnavailable(f"npm ci of ocpp-rpc {version()} could not start: {exc}") from None
    if done.returncode != 0:
        # npm's first error line that says what went wrong (not its code, not the log's path)
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        said = [ln for ln in lines if not re.match(r"npm (error|ERR!) (code|errno|A complete log|\s*$)", ln)]
        why = (said or lines or ["no output"])[0]
        raise NodeUnavailable(f"npm ci of ocpp-rpc {version()} failed (exit {done.returncode}): {why[:200]}")


def server_argv(host: str, port: int, cache: Path | None = None) -> list[str]:
    """The command that runs the Node server, installing it first if needed."""
    node, dest = ensure_installed(cache)
    return [node, str(dest / "server.js"), "--host", host, "--port", str(port)]
