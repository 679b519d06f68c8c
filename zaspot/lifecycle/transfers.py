"""The file endpoint, firmware updates and rollouts, log retrieval (#17), started together.

The endpoint listens on `files.host`:`files.port`; with no port given, on the OCPP port + 1
when that is free, else on any free port (logged either way). With a `tls:` section it
serves HTTPS with the same certificate.
"""

from __future__ import annotations

import logging
from typing import Any

from zaspot.lifecycle.files import FileEndpoint
from zaspot.lifecycle.firmware import FirmwareService
from zaspot.lifecycle.links import Tickets
from zaspot.lifecycle.logs import LogService
from zaspot.ocpp.security import tls_context

_LOGGER = logging.getLogger(__name__)
MIB = 1024 * 1024


async def setup(ctx: Any, commands: Any) -> Any:
    """Start this feature on the running app; returns its teardown."""
    cfg = ctx.config
    endpoint = FileEndpoint(cfg.files.max_upload_mb * MIB, tls_context(cfg), cfg.files.public_url)
    await _listen(endpoint, cfg)
    _LOGGER.info("zaspot files on %s://%s:%d (firmware downloads, log uploads; in %s)", endpoint.scheme,
                 cfg.files.host, endpoint.port, cfg.files.dir)
    tickets = Tickets()
    ctx.files = endpoint
    ctx.firmware = FirmwareService(ctx, commands, endpoint, tickets)
    ctx.logs = LogService(ctx, commands, endpoint, tickets)
    try:
        await ctx.firmware.start()
        await ctx.logs.start()
    except BaseException:
        await ctx.firmware.stop()
        await endpoint.stop()
        raise

    async def teardown() -> None:
        await ctx.logs.stop()
        await ctx.firmware.stop()
        await endpoint.stop()

    return teardown


async def _listen(endpoint: FileEndpoint, cfg: Any) -> None:
    host, port = cfg.files.host, cfg.files.port
    if port is not None:
        await endpoint.start(host, port)  # 0: any free port
        return
    if 0 < cfg.port < 65535:
        try:
            await endpoint.start(host, cfg.port + 1)
            return
        except OSError as exc:
            _LOGGER.warning("files: port %d (the OCPP port + 1) is not free (%s): taking any free port",
                            cfg.port + 1, exc.strerror)
    await endpoint.start(host, 0)
