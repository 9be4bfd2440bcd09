"""The Task Scheduler template (deploy/windows/orders-sync-task.xml): a task Windows can
import, weekdays early morning, running the console command's `run` with options the command
accepts, and no secret in it."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

from orders_sync_gui.cli import build_parser

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "windows" / "orders-sync-task.xml"
NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def test_the_task_runs_orders_sync_run_on_weekday_mornings():
    root = ET.parse(TEMPLATE).getroot()
    assert root.tag == f"{{{NS['t']}}}Task"
    trigger = root.find("t:Triggers/t:CalendarTrigger", NS)
    assert trigger is not None
    hour = int(trigger.findtext("t:StartBoundary", namespaces=NS)[11:13])
    assert hour < 8
    days = {d.tag.split("}")[1] for d in trigger.find("t:ScheduleByWeek/t:DaysOfWeek", NS)}
    assert days == {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
    command = root.findtext("t:Actions/t:Exec/t:Command", namespaces=NS)
    assert command.strip('"').endswith("orders-sync.exe")
    arguments = shlex.split(root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS))
    args = build_parser().parse_args(arguments)  # options the command really has
    assert args.command == "run" and args.all and args.notify
    assert root.findtext("t:Settings/t:MultipleInstancesPolicy", namespaces=NS) == "IgnoreNew"


def test_no_secret_is_in_the_template():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "<Password>" not in text and "<UserId>" not in text
    assert not re.search(r"MONDAY_API_TOKEN\s*=|://[^\s/]*:[^\s@]*@|hooks\.slack\.com/", text)
