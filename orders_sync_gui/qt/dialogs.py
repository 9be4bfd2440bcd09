"""Confirmations that say exactly what will happen, and the crash dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.models import BatchStatus, ChangeType
from ..services.estimate import Estimate
from ..services.staging import BatchInfo


def push_text(batch: BatchInfo, est: Estimate) -> str:
    lines = [
        f"Push batch {batch.batch_id} of {batch.customer} to monday.com?",
        "",
        f"Rows: {batch.new_count} new, {batch.changed_count} changed, "
        f"{batch.deleted_count} deleted ({est.items} item and {est.subitems} subitem "
        "changes still to send).",
        f"Requests: {est.requests:,}  ·  complexity: {est.complexity:,} points",
        f"Time: about {_minutes(est.minutes)}  ·  {est.daily_share:.1%} of the account's "
        "daily request quota",
        f"Adds to the board: {est.new_items:,} items and {est.new_subitems:,} subitems (a "
        "push the board has no room for is refused before anything is sent).",
    ]
    if est.not_undoable:
        lines += ["", "What undo cannot restore afterwards:"]
        lines += [f"  • {note}" for note in est.not_undoable]
    else:
        lines += ["", "Everything this push does can be undone with Roll back / Undo batch."]
    return "\n".join(lines)


def _minutes(minutes: float) -> str:
    if minutes < 1:
        return f"{max(1, round(minutes * 60))} s"
    return f"{minutes:.1f} min"


def ask(parent: QWidget, title: str, text: str, yes: str) -> bool:
    """A question whose default is Cancel: Enter (or Escape) never sends anything."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    go = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    go.setAutoDefault(False)
    box.exec()
    return box.clickedButton() is go


def confirm_push(parent: QWidget, batch: BatchInfo, est: Estimate) -> bool:
    return ask(parent, "Push to monday.com", push_text(batch, est), "Push")


def rollback_text(batch: BatchInfo, est: Estimate | None = None) -> str:
    if batch.status == BatchStatus.STAGED.value:
        return (
            f"Roll back batch {batch.batch_id} of {batch.customer}?\n\nIts "
            f"{batch.item_count} staged rows are discarded. Nothing was sent, so nothing "
            "changes on monday.com; the orders stay as they are in the source and can be "
            "staged again."
        )
    if batch.change_types == ChangeType.ADOPTED.value:
        return (
            f"Undo adoption batch {batch.batch_id} of {batch.customer} on monday.com?\n\n"
            f"• the {batch.item_count} board items it adopted get their record_uuid cleared "
            "(nothing else on them changes);\n"
            "• their orders lose the sync state the adoption gave them, and the orders it "
            "held are no longer held: a push would create their items again, so adopt again "
            "before pushing."
        )
    return (
        f"Undo batch {batch.batch_id} of {batch.customer} on monday.com?\n\n"
        f"• the items it created ({batch.new_count} new orders) are deleted, with their "
        "subitems;\n"
        f"• the {batch.changed_count} items it changed get their previous values and "
        "quantities back;\n"
        f"• the {batch.deleted_count} items it marked as deleted are unmarked (archived "
        "items cannot be restored through the API);\n"
        "• the sync state goes back to before the batch, so these orders show as "
        "changes again."
    ) + (_undo_cost(est) if est is not None else "")


def _undo_cost(est: Estimate) -> str:
    return (
        f"\n\nRequests: about {est.requests:,} ({est.mutations:,} changes)  ·  complexity: "
        f"{est.complexity:,} points\nTime: about {_minutes(est.minutes)}  ·  "
        f"{est.daily_share:.1%} of the account's daily request quota"
    )


def confirm_rollback(parent: QWidget, batch: BatchInfo, est: Estimate | None = None) -> bool:
    staged = batch.status == BatchStatus.STAGED.value
    title = "Roll back batch" if staged else "Undo batch"
    return ask(parent, title, rollback_text(batch, est), "Roll back" if staged else "Undo")


def confirm_close(parent: QWidget) -> bool:
    return ask(
        parent,
        "A job is running",
        "A push or undo is still running. Stop it and close? Nothing is lost: it stops "
        "after the request under way, and an interrupted push resumes where it stopped.",
        "Stop and close",
    )


def show_crash(parent: QWidget | None, summary: str, log_file: str) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Something went wrong")
    box.setText(
        f"An unexpected error occurred:\n{summary}\n\nThe window stays open; what "
        f"was recorded is safe. Details are in the log file:\n{log_file}"
    )
    box.exec()
