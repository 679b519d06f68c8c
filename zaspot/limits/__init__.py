"""Every EVSE's power limit, from every source, with one owner: see owner.py."""

from zaspot.limits.owner import LimitOwner

__all__ = ["LimitOwner"]
