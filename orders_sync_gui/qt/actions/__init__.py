"""The operator's commands, each a small class: stage, push, roll back / undo. New flows
(adoption, drift, unattended runs) are added the same way."""

from .base import ConfirmAction, Step, Workbench
from .push import PushAction
from .rollback import RollbackAction
from .stage import StageAction

__all__ = ["ConfirmAction", "PushAction", "RollbackAction", "StageAction", "Step", "Workbench"]
