"""Notifications: the Notifier interface, the built-in `log` and `webhook` notifiers,
and the manager that fans each notification out to every configured notifier."""

from zaspot.notify.base import Notification, Notifier

__all__ = ["Notification", "Notifier"]
