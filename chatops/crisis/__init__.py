"""A crisis day's inbox: the backlog measured, the crisis banner, the backlog alert and overflow channels."""

from chatops.crisis.backlog import Backlog
from chatops.crisis.banner import CrisisBanners
from chatops.crisis.monitor import BacklogMonitor
from chatops.crisis.overflow import OverflowChannels
from chatops.crisis.texts import TEXTS

__all__ = ["TEXTS", "Backlog", "BacklogMonitor", "CrisisBanners", "OverflowChannels"]
