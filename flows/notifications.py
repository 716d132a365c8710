"""Being told when an unattended run fails or stops early: a Prefect automation that
sends through a notification block the user made (Slack, e-mail, a webhook…).

A run that fails ends in Prefect's Failed or Crashed state; a run that stops early (quota
used up, the token revoked) ends Completed with the rest deferred, so it says so with an
event of its own. The automation reacts to either, for flow runs of `ingest` only.
"""

from __future__ import annotations

from uuid import UUID

from prefect.automations import Automation, EventTrigger, SendNotification
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import BlockDocument
from prefect.events import emit_event

from flickr_ingest.errors import ConfigurationError

STOPPED_EARLY = "flickr-ingest.run.stopped-early"
AUTOMATION_NAME = "flickr-ingest: a run failed or stopped early"
_WATCHED = {
    "prefect.flow-run.Failed",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.TimedOut",
    STOPPED_EARLY,
}
_BODY = (
    "flickr-ingest: flow run {{ flow_run.name }}"
    "{% if event.payload.run_id %} (run {{ event.payload.run_id }}){% endif %}:"
    " {{ event.event }}"
    "{% if event.payload.reason %}: {{ event.payload.reason }}{% endif %}\n"
    "{{ flow_run|ui_url }}"
)


def say_stopped_early(run_id: str, reason: str) -> None:
    """The event a run that stopped early emits (Prefect relates it to the flow run)."""
    emit_event(
        event=STOPPED_EARLY,
        resource={"prefect.resource.id": f"flickr-ingest.run.{run_id}"},
        payload={"run_id": run_id, "reason": reason},
    )


def notify_through(block_name: str) -> str:
    """Make (or remake) the automation that sends through the notification block
    `block_name` whenever an `ingest` run fails, crashes or stops early; returns what
    was done, for people."""
    block_id = _notification_block_id(block_name)
    with get_client(sync_client=True) as client:  # one automation, however often run
        for existing in client.read_automations_by_name(AUTOMATION_NAME):
            client.delete_automation(existing.id)
    Automation(
        name=AUTOMATION_NAME,
        description="Made by `flickr-ingest setup --notify`.",
        trigger=EventTrigger(
            expect=_WATCHED,
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": "ingest"},
            posture="Reactive",
            threshold=1,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="flickr-ingest: a run needs you",
                body=_BODY,
            )
        ],
    ).create()
    return f"notifications: runs that fail or stop early are sent through {block_name!r}"


def _notification_block_id(name: str) -> UUID:
    """The saved block called `name` (or `type-slug/name`) that can send notifications."""
    wanted = name.rsplit("/", 1)[-1]
    documents = [d for d in _block_documents() if d.name == wanted]
    if "/" in name:
        slug = name.rsplit("/", 1)[0]
        documents = [d for d in documents if d.block_type and d.block_type.slug == slug]
    notifiers = [d for d in documents if d.block_schema and "notify" in d.block_schema.capabilities]
    if not documents:
        raise ConfigurationError(
            f"no notification block {name!r} on this Prefect server: make one in the"
            " dashboard (Blocks → e.g. Slack Webhook, Email, Custom Webhook), then name it here"
        )
    if not notifiers:
        raise ConfigurationError(f"block {name!r} cannot send notifications")
    if len(notifiers) > 1:
        raise ConfigurationError(
            f"more than one notification block is called {name!r}: name it as TYPE/NAME"
            f" ({', '.join(f'{d.block_type.slug}/{wanted}' for d in notifiers if d.block_type)})"
        )
    return notifiers[0].id


def _block_documents() -> list[BlockDocument]:
    """Every saved block on the server (names and types, no secrets), page by page."""
    found: list[BlockDocument] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_block_documents(offset=len(found), limit=200, include_secrets=False)
            found += page
            if len(page) < 200:
                return found
