"""Who will see new photos, said before a run sends (flickr_ingest/audience.py)."""

from __future__ import annotations

import pytest

from flickr_ingest.audience import Audience, destination_line


@pytest.mark.parametrize(
    ("audience", "default", "said"),
    [
        (Audience(), 1, "public: anyone can see them (the account's default)"),
        (Audience(), 5, "private: only you can see them (the account's default)"),
        (Audience(), None, "the account's default privacy (Flickr did not say which it is)"),
        (Audience(is_public=True), 5, "public: anyone can see them"),
        (Audience(is_public=False), 1, "private: only you can see them"),
        (Audience(is_public=False, is_friend=True), 1, "visible to your friends only"),
        (Audience(is_public=False, is_family=True), 1, "visible to your family only"),
        (
            Audience(is_public=False, is_friend=True, is_family=True),
            1,
            "visible to your friends and family only",
        ),
    ],
)
def test_who_will_see_new_photos(audience: Audience, default: int | None, said: str) -> None:
    assert audience.describe(default) == said


def test_the_destination_line_names_host_account_and_audience() -> None:
    line = destination_line(
        where="flickr.com (https://up.flickr.com)",
        account="alice (12345678@N01)",
        audience="public: anyone can see them (the account's default)",
        dry_run=False,
    )
    assert line == (
        "Sending to flickr.com (https://up.flickr.com) as alice (12345678@N01); new photos"
        " will be public: anyone can see them (the account's default)"
    )
    assert destination_line(where="x", account="y", audience="z", dry_run=True).startswith(
        "Would send to x"
    )
