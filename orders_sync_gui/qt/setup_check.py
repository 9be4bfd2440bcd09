"""Check setup: `orders-sync doctor` in the window. The same checks, run on the pool (the
window never waits on the database or monday.com), shown failing first, then warnings,
then the rest, each with its detail and its one-line fix. "Run live test…" asks first
(Cancel is the default button: Enter sends nothing to monday.com), then runs the live test
in the background and says whether it passed and where its transcript is.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..paths import log_dir
from ..secrets import SecretStoreError
from ..services.checks import FAIL, PASS, SKIP, WARN, Check, failing_first
from ..services.doctor import DoctorReport, doctor
from ..services.live_test import LIVE
from ..services.monday_setup import MondaySetup, MondaySetupError
from .session import Session
from .workers import Job, JobRunner

log = logging.getLogger("orders_sync_gui.gui")

# The status as a word on a colour (never colour alone), as the CLI prints it.
BADGES = {
    FAIL: ("FAIL", "#b3261e"),
    WARN: ("WARN", "#8a5300"),
    SKIP: ("SKIP", "#5f6368"),
    PASS: ("PASS", "#1e7b34"),
}
LIVE_TEST_TEXT = (
    "Run the live test on the monday.com board?\n\n"
    "It works on the board itself: in a new scratch group it creates an item with a value "
    "in every mapped column and a subitem, changes their values, sends one bad value on "
    "purpose (monday.com must refuse it), looks the item up, then archives and deletes "
    "what it made and the group. About 15 requests; nothing else on the board changes.\n\n"
    "Every request and answer (token and ids hidden) is written to a transcript in {logs}."
)


def run_doctor(session: Session | None, *, live_test: bool = False) -> DoctorReport:
    """The doctor on the window's database and monday.com setup; with no session open yet
    (the database did not open), on the settings, as `orders-sync doctor` runs.

    Reads the keyring and the network: call it from a worker."""
    if session is None:
        return doctor(None, live_test=live_test)
    setup: MondaySetup | None
    try:
        setup = session.monday()
    except (MondaySetupError, SecretStoreError):
        setup = None  # the token check finds the same problem and says how to fix it
    return doctor(session.ctx.store.url, live_test=live_test, setup=setup)


def summary(checks: list[Check]) -> str:
    counts = Counter(c.status for c in checks)
    words = ((FAIL, "failed"), (WARN, "warned"), (SKIP, "skipped"), (PASS, "passed"))
    return ", ".join(f"{counts[status]} {word}" for status, word in words if counts[status])


def checks_html(checks: list[Check]) -> str:
    """The checks as one table: status, name, then the detail and the fix, wrapped."""
    rows = []
    for check in checks:
        word, colour = BADGES.get(check.status, (check.status.upper(), "#5f6368"))
        fix = (
            f'<p style="margin-top:3px"><b>Fix:</b> {html.escape(check.fix)}</p>'
            if check.fix and check.status != PASS
            else ""
        )
        rows.append(
            "<tr>"
            f'<td width="64" align="center" style="background:{colour}; color:white; '
            f'font-weight:bold; white-space:nowrap">{word}</td>'
            f'<td width="150"><b>{html.escape(check.name)}</b></td>'
            f"<td>{html.escape(check.detail)}{fix}</td>"
            "</tr>"
        )
    return (
        '<table width="100%" cellspacing="0" cellpadding="6" border="1" '
        'style="border-collapse:collapse; border-color:#d0d0d0; border-style:solid">'
        + "".join(rows)
        + "</table>"
    )


def live_result(report: DoctorReport) -> str:
    """One sentence: did the live test pass, and where is its transcript."""
    steps = [c for c in report.checks if c.name.startswith(LIVE) or c.name == "live test"]
    failed = [c.name.removeprefix(LIVE) for c in steps if c.status == FAIL]
    skipped = next((c for c in steps if c.status == SKIP and c.name == "live test"), None)
    if skipped is not None:
        return f"Live test not run: {skipped.detail} ({skipped.fix})."
    where = (
        f"transcript written to {report.transcript}"
        if report.transcript is not None
        else "no transcript was written (see the transcript step)"
    )
    if failed:
        return f"Live test FAILED at {len(failed)} steps ({', '.join(failed)}); {where}."
    return f"Live test passed ({len(steps)} steps); {where}."


class SetupCheckDialog(QDialog):
    """The checks of `orders-sync doctor` for the window's session."""

    checked = Signal(object)  # a DoctorReport, shown
    live_tested = Signal(object)  # a DoctorReport with the live test's steps, shown

    def __init__(self, parent: QWidget | None, session: Callable[[], Session | None]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check setup")
        self.resize(900, 620)
        self.session = session
        self.runner = JobRunner(self)
        self.report: DoctorReport | None = None
        self.shown: list[Check] = []  # the checks as listed, failing first
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: bold;")
        self.list = QTextBrowser()
        self.list.setOpenLinks(False)
        self.list.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.live_label = QLabel()
        self.live_label.setWordWrap(True)
        self.live_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.live_label.hide()
        self.again = QPushButton("Check again")
        self.again.clicked.connect(self.run_checks)
        self.live = QPushButton("Run live test…")
        self.live.setToolTip("Create, change and delete a test item on the board (asks first)")
        self.live.clicked.connect(self.ask_live_test)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.again, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.live, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        for button in (self.again, self.live, close):
            button.setAutoDefault(False)  # Enter in the dialog starts nothing
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.live_label)
        layout.addWidget(buttons)

    # --- running ------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.summary.setText(text)
        self.again.setEnabled(False)
        self.live.setEnabled(False)

    def _idle(self) -> None:
        self.again.setEnabled(True)
        self.live.setEnabled(True)

    def run_checks(self) -> None:
        """Every check, in the background; the list shows them when they are done."""
        session = self.session()

        def work(job: Job) -> DoctorReport:
            return run_doctor(session, live_test=False)

        self._busy("Checking the files, the database, the token and the board…")
        self.runner.start(
            "Checking setup", "doctor", work, on_success=self._checked, on_failure=self._failed
        )

    def _checked(self, report: DoctorReport) -> None:
        self.show_report(report)
        self._idle()
        self.checked.emit(report)

    def _failed(self, message: str) -> None:
        log.error("checking setup failed: %s", message)
        self.summary.setText(f"The checks could not run: {message}")
        self._idle()

    def show_report(self, report: DoctorReport) -> None:
        self.report = report
        self.shown = failing_first(report.checks)
        verdict = "Ready to push" if report.ok else "Not ready: fix what failed first"
        self.summary.setText(f"{verdict} — {summary(report.checks)}")
        self.list.setHtml(checks_html(self.shown))

    # --- the live test ------------------------------------------------------------------

    def confirm_box(self) -> QMessageBox:
        """The question before the live test: Cancel is the default (Enter) and Escape."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Run live test")
        box.setText(LIVE_TEST_TEXT.format(logs=log_dir()))
        self.run_button = box.addButton("Run live test", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        return box

    def ask_live_test(self) -> None:
        box = self.confirm_box()
        box.exec()
        if box.clickedButton() is not self.run_button:
            log.info("live test not run: cancelled")
            return
        self.run_live_test()

    def run_live_test(self) -> None:
        session = self.session()

        def work(job: Job) -> DoctorReport:
            return run_doctor(session, live_test=True)

        self._busy("Running the checks, then the live test on the board…")
        self.live_label.hide()
        self.runner.start(
            "Live test", "doctor", work, on_success=self._live_done, on_failure=self._failed
        )

    def _live_done(self, report: DoctorReport) -> None:
        self.show_report(report)
        text = live_result(report)
        log.info("%s", text)
        colour = "#1e7b34" if text.startswith("Live test passed") else "#b3261e"
        self.live_label.setStyleSheet(f"font-weight: bold; color: {colour};")
        self.live_label.setText(text)
        self.live_label.show()
        self._idle()
        self.live_tested.emit(report)

    def done(self, result: int) -> None:
        self.runner.stop()  # a running check ends on its own; nothing more starts
        super().done(result)


def open_setup_check(window: QWidget, session: Callable[[], Session | None]) -> SetupCheckDialog:
    """Show the window's Check setup dialog (one at a time, not modal) and run the checks."""
    dialog = window.findChild(SetupCheckDialog)
    if dialog is None:
        dialog = SetupCheckDialog(window, session)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    if not dialog.runner.busy():
        dialog.run_checks()
    return dialog
