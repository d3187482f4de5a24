"""A sandbox as an integrator's CI would run it for a campaign: HTTPS, an SFTP space, a virtual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from merchant_sim.integrator import CORRECT, Flaws, Inbox, RecetteIntegrator, sftp_downloader
from sandbox.client import FlaskTransport
from sandbox.services.sftp_space import start_server
from tests.conftest import World, make_settings


class Campaigns:
    """Starts a campaign and plays it with a simulated integrator (correct, or with `Flaws`)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.world = World(make_settings(tls_dir=str(tmp_path / "tls"), journal_dir=str(tmp_path / "sftp")))
        self.sftp = start_server(self.world.sandbox, tmp_path / "sftp")
        self.https = FlaskTransport(self.world.app, base_url="https://localhost")
        self.inboxes: list[Inbox] = []

    def integrator(self, flaws: Flaws = CORRECT, kind: str = "shop", cases: list[str] | None = None,
                   https: bool = True) -> RecetteIntegrator:
        """A campaign started for the first shop (or the provider), and an integrator to play it."""
        world = self.world
        if kind == "shop":
            holder = world.shop()
            holder_id, key = holder["shopId"], holder["key"]
        else:
            holder_id, key = world.provider["serviceProviderId"], world.provider["key"]
        campaign = world.control.start_recette(kind, holder_id, cases)
        tls = None
        if https:
            certificate = world.control.tls_certificate(["localhost"])
            tls = (certificate["certificate"], certificate["privateKey"])
        inbox = Inbox(500 if flaws.ignores_webhooks else 200, tls=tls, folder=self.tmp_path / f"inbox-{len(self.inboxes)}")
        self.inboxes.append(inbox)
        return RecetteIntegrator(world.control, self.https if https else world.transport, campaign, key, inbox, flaws,
                          sftp=sftp_downloader("127.0.0.1", self.sftp.port))

    def end(self, integrator: RecetteIntegrator) -> dict[str, Any]:
        """The campaign ended once every webhook is delivered: each case judged for good."""
        self.world.sandbox.sender.wait_idle(timeout=5)
        return self.world.control.end_recette(integrator.campaign["id"])

    def play(self, flaws: Flaws = CORRECT, kind: str = "shop", cases: list[str] | None = None) -> dict[str, Any]:
        """Start a campaign, play every case, end it: the campaign judged."""
        integrator = self.integrator(flaws, kind, cases)
        integrator.play_all()
        return self.end(integrator)

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.close()
        self.sftp.stop()
        self.world.sandbox.stop()


@pytest.fixture
def campaigns(tmp_path: Path) -> Any:
    made = Campaigns(tmp_path)
    yield made
    made.close()
