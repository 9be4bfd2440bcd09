"""The Kestra flow (deploy/kestra/orders_sync.yml), without a Kestra server (none installs
here): its structure is checked, then every command line it runs is taken from it, Kestra's
template expressions replaced by test values, and run against the sandbox in the flow's order
(the loop's runs at most concurrencyLimit at once), as a
Process task runner would run them. The flow's commands work as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from pushkit import TOKEN, active, assert_no_duplicates, texts

from orders_sync_gui.monday.sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "deploy" / "kestra" / "orders_sync.yml"
COMMANDS = "io.kestra.plugin.scripts.shell.Commands"
FOR_EACH = "io.kestra.plugin.core.flow.ForEach"
PROCESS = "io.kestra.plugin.core.runner.Process"
SECRETS = {"ORDERS_SYNC_DB_URL", "MONDAY_API_TOKEN", "TEAMS_WEBHOOK_URL"}
EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
KESTRA_LINE = re.compile(r"^::(\{.*\})::$")


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    return yaml.safe_load(FLOW.read_text(encoding="utf-8"))


def all_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for task in tasks:
        out.append(task)
        out += all_tasks(task.get("tasks") or [])
    return out


def test_the_flow_has_its_parts(flow):
    assert flow["id"] == "orders_sync" and flow["namespace"]
    [trigger] = flow["triggers"]
    assert trigger["type"] == "io.kestra.plugin.core.trigger.Schedule"
    _minute, hour, _, _, weekdays = trigger["cron"].split()
    assert int(hour) < 8 and weekdays == "1-5"  # weekdays, early morning
    [customers] = [i for i in flow["inputs"] if i["id"] == "customers"]
    assert customers["defaults"] == ["all"]
    [list_task, loop] = flow["tasks"]
    assert list_task["type"] == COMMANDS
    assert any("detect --json" in c for c in list_task["commands"])
    assert loop["type"] == FOR_EACH and int(loop["concurrencyLimit"]) > 1
    [run] = loop["tasks"]
    assert run["type"] == COMMANDS
    assert any("run --customer" in c and "--kestra" in c for c in run["commands"])
    runners = [d["values"]["taskRunner"]["type"] for d in flow["pluginDefaults"]]
    assert runners == [PROCESS]
    assert flow["errors"] and "notifications" in flow["errors"][0]["type"]


def test_secrets_come_from_kestra_and_none_is_written_in_clear(flow):
    text = FLOW.read_text(encoding="utf-8")
    named = set(re.findall(r"secret\('([A-Z_]+)'\)", text))
    assert named == SECRETS
    for task in all_tasks(flow["tasks"]):
        env = task.get("env") or {}
        for key in ("ORDERS_SYNC_DB_URL", "MONDAY_API_TOKEN"):
            if key in env:
                assert env[key] == f"{{{{ secret('{key}') }}}}", (task["id"], key)
    assert flow["errors"][0]["url"] == "{{ secret('TEAMS_WEBHOOK_URL') }}"
    # Nothing that looks like a credential or a connection string in clear.
    for pattern in (r"://[^/\s]*:[^@\s]*@", r"(?i)password\s*[:=]", r"hooks\.slack\.com/", r"eyJ"):
        assert not re.search(pattern, text), pattern


class Render:
    """Kestra's template expressions, as the flow uses them, given test values."""

    def __init__(self, secrets: dict[str, str], variables: dict[str, str], inputs: dict) -> None:
        self.secrets, self.vars, self.inputs = secrets, variables, inputs
        self.value: str | None = None

    def one(self, expr: str) -> str:
        if m := re.fullmatch(r"secret\('([A-Z_]+)'\)", expr):
            return self.secrets[m.group(1)]
        if m := re.fullmatch(r"vars\.(\w+)", expr):
            return self.vars[m.group(1)]
        if m := re.fullmatch(r"inputs\.(\w+)", expr):
            return str(self.inputs[m.group(1)])
        if expr == "taskrun.value" and self.value is not None:
            return self.value
        raise AssertionError(f"the test does not know the expression {{{{ {expr} }}}}")

    def __call__(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.one(m.group(1)), str(text))


def run_commands(task: dict[str, Any], render: Render, workdir: Path) -> list[str]:
    """A Commands task through a Process runner: its env rendered, each command in sh."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_SYNC", "MONDAY_"))}
    env |= {k: render(v) for k, v in (task.get("env") or {}).items()}
    env |= {"PYTHONPATH": str(REPO), "ORDERS_SYNC_HOME": str(workdir / "home")}
    outputs = []
    for command in task["commands"]:
        done = subprocess.run(
            ["/bin/sh", "-c", render(command)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
        outputs.append(done.stdout)
    return outputs


def loop_values(loop: dict[str, Any], workdir: Path, inputs: dict[str, Any]) -> list[str]:
    """The ForEach's values as Kestra computes them: the input's names, or with "all" the
    names jq takes from the list task's output file."""
    expr = loop["values"]
    assert "inputs.customers contains 'all'" in expr
    assert "outputs.list_customers.outputFiles['customers.json']" in expr
    assert "jq('[.customers[].customer]')" in expr
    if "all" not in inputs["customers"]:
        return list(inputs["customers"])
    listed = json.loads((workdir / "customers.json").read_text(encoding="utf-8"))
    return [c["customer"] for c in listed["customers"]]


def test_the_flows_commands_run_as_written_against_the_sandbox(
    flow, sandbox: SandboxServer, db: str, tmp_path
):
    inputs = {i["id"]: i["defaults"] for i in flow["inputs"]}
    variables = dict(flow["variables"])
    variables |= {
        "orders_sync": f"{shlex.quote(sys.executable)} -m orders_sync_gui.cli",
        "monday_url": sandbox.url,
        "board_id": sandbox.board_id,
    }
    secrets = {
        "ORDERS_SYNC_DB_URL": db,
        "MONDAY_API_TOKEN": TOKEN,
        "TEAMS_WEBHOOK_URL": "http://127.0.0.1:9/unused",
    }
    render = Render(secrets, variables, inputs)
    [list_task, loop] = flow["tasks"]
    run_commands(list_task, render, tmp_path)
    for name in list_task["outputFiles"]:
        assert (tmp_path / name).is_file()
    customers = loop_values(loop, tmp_path, inputs)
    assert len(customers) > 10

    # The loop's runs, at most concurrencyLimit at once, as Kestra's ForEach runs them.
    task = loop["tasks"][0]

    def one(customer: str) -> tuple[str, str]:
        mine = Render(secrets, variables, inputs)
        mine.value = customer
        [out] = run_commands(task, mine, tmp_path)
        return customer, out

    with ThreadPoolExecutor(max_workers=int(loop["concurrencyLimit"])) as pool:
        results = list(pool.map(one, customers))
    seen: dict[str, dict[str, Any]] = {}
    for customer, out in results:
        lines = out.strip().splitlines()
        kestra = [json.loads(m.group(1)) for line in lines if (m := KESTRA_LINE.match(line))]
        [outputs] = [k["outputs"] for k in kestra if "outputs" in k]
        [metrics] = [k["metrics"] for k in kestra if "metrics" in k]
        report = json.loads(lines[-1])
        assert outputs["customer"] == customer and outputs["status"] == "PUSHED"
        assert {m["type"] for m in metrics} <= {"counter", "timer"}
        assert any(m["name"] == "succeeded" and m["tags"]["customer"] == customer for m in metrics)
        assert "\x00" not in out
        seen[customer] = report["customers"][0]
    assert {c["status"] for c in seen.values()} == {"PUSHED"}
    dump = sandbox.dump()
    assert_no_duplicates(dump)
    assert len(active(dump["items"])) == sum(c["succeeded"] for c in seen.values())
    assert all(texts(i)["text_record_uuid"] for i in active(dump["items"]))
