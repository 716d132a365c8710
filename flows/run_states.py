"""How a flow run started at a terminal ends in the dashboard when its person stops it."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import Flow, FlowRun, State
from prefect.states import Cancelled

#: Prefect's message for a run that crashed on KeyboardInterrupt (prefect/states.py).
_INTERRUPTED = "Execution was aborted by an interrupt signal."


def cancelled_if_interrupted(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """An `on_crashed` hook: a run someone stopped with Ctrl-C was cancelled, not crashed
    (Prefect says Crashed for any KeyboardInterrupt; in the dashboard that reads as a
    failure of the machine). Its report is written either way."""
    if state.message != _INTERRUPTED:
        return
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            flow_run.id, Cancelled(message="Interrupted at the terminal (Ctrl-C)"), force=True
        )
