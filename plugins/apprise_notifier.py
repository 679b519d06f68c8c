"""Example notifier plugin on the optional `apprise` package: email, Telegram, Slack,
ntfy, Matrix, … through one URL scheme (https://github.com/caronc/apprise/wiki).

    pip install 'zaspot[apprise]'

    notify:
      - platform: apprise
        name: phones
        urls:
          - ntfy://ntfy.sh/my-depot-alerts
          - tgram://BOT_TOKEN/CHAT_ID
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zaspot.core.plugins import PluginContext
from zaspot.notify import Notification

NAME = "apprise_notifier"


@dataclass
class AppriseConfig:
    urls: list[str] = field(default_factory=list)


class AppriseNotifier:
    def __init__(self, config: AppriseConfig) -> None:
        try:
            import apprise  # optional: only needed when this platform is configured
        except ImportError:
            raise ValueError("the apprise package is not installed: pip install 'zaspot[apprise]'") from None
        if not config.urls:
            raise ValueError("urls: list at least one apprise URL")
        self._apprise = apprise.Apprise()
        for url in config.urls:
            if not self._apprise.add(url):
                raise ValueError(f"urls: apprise does not understand {url.split('://')[0]}:// URLs")

    async def send(self, notification: Notification) -> None:
        if not await self._apprise.async_notify(body=notification.message, title=notification.title or ""):
            raise RuntimeError("apprise could not deliver to every URL")


async def setup(api: PluginContext, config: None) -> None:
    api.register_notifier("apprise", AppriseNotifier, AppriseConfig)
