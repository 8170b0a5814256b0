"""The SMTP mailer against a real server (aiosmtpd): a message is handed over at its
end-of-data line, inside the notice's ``handing_over`` and not before it."""

from __future__ import annotations

import select
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
import uvloop

from services.notify.adapters.smtp import HandOverConnection, SmtpMailer
from services.notify.service_layer.ports import Commit
from shared.embedded.mail import DevMailServer, read_mailbox, subject
from shared.settings import Settings
from tests.support import eventually


class Refused(Exception):
    """What the notice's record raised: the database was gone, say."""


class Record:
    """A notice's record as stands in the delivery log: what the server held as the record
    was written, and the commits made."""

    def __init__(self, folder: Path, *, refuse: bool = False) -> None:
        self._folder = folder
        self._refuse = refuse
        self.held: list[int] = []
        self.commits = 0

    @asynccontextmanager
    async def handing_over(self) -> AsyncIterator[Commit]:
        self.held.append(len(read_mailbox(self._folder)))
        if self._refuse:
            raise Refused

        async def commit() -> None:
            self.commits += 1

        yield commit


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevMailServer]:
    mail = DevMailServer(tmp_path / "mail", host="127.0.0.1")
    mail.start()
    try:
        yield mail
    finally:
        mail.stop()


def _mailer(server: DevMailServer) -> SmtpMailer:
    return SmtpMailer(
        Settings(smtp_host=server.host, smtp_port=server.smtp_port, smtp_connections=1)
    )


async def test_a_message_whose_record_failed_never_reaches_the_server(
    server: DevMailServer,
) -> None:
    mailer = _mailer(server)
    refusing = Record(server.folder, refuse=True)
    with pytest.raises(Refused):
        await mailer.send(
            to="ada@example.org",
            subject="First",
            body="Never kept.",
            message_id="<first@kith.test>",
            handing_over=refusing.handing_over(),
        )
    # Welsh (8-bit) text and a line that starts with a dot go over the split DATA intact.
    body = "Helo Nia, mae eich ymweliad wedi'i drefnu.\n.\nDiolch."
    record = Record(server.folder)
    await mailer.send(
        to="nia@example.org",
        subject="Second",
        body=body,
        message_id="<second@kith.test>",
        handing_over=record.handing_over(),
    )
    await mailer.close()

    async def second_kept() -> bool:
        return any(subject(m) == "Second" for m in read_mailbox(server.folder))

    await eventually(second_kept, timeout_s=10, what="the second message kept")
    [kept] = read_mailbox(server.folder)
    assert (refusing.held, refusing.commits) == ([0], 0)
    assert (record.held, record.commits) == ([0], 1)
    assert kept["Message-ID"] == "<second@kith.test>"
    # The server keeps the lines as they travelled, ended by CRLF.
    assert kept.get_content().replace("\r\n", "\n").rstrip("\n") == body


async def test_the_server_holds_nothing_of_a_message_until_its_record_is_written(
    server: DevMailServer,
) -> None:
    mailer = _mailer(server)
    record = Record(server.folder)
    for n in range(3):
        await mailer.send(
            to="ada@example.org",
            subject=f"Visit {n}",
            body="See you then.",
            message_id=f"<visit-{n}@kith.test>",
            handing_over=record.handing_over(),
        )
    await mailer.close()
    # Each record found only the messages before its own kept, on one connection kept open
    # between the three; each was committed once the server had its message.
    assert record.held == [0, 1, 2]
    assert record.commits == 3
    assert [subject(m) for m in read_mailbox(server.folder)] == ["Visit 0", "Visit 1", "Visit 2"]


def test_an_answer_in_before_the_loop_looks_for_it_is_read(server: DevMailServer) -> None:
    # On uvloop, as notify runs: a loop there reads sockets before the steps made ready
    # meanwhile, so a server quick to answer while the record commits must find the mailer
    # already listening.
    uvloop.run(_answered_while_committing(server))


async def _answered_while_committing(server: DevMailServer) -> None:
    client = HandOverConnection(hostname=server.host, port=server.smtp_port, timeout=5)
    await client.connect()
    connection = client.transport.get_extra_info("socket") if client.transport else None
    assert connection is not None

    @asynccontextmanager
    async def handing_over() -> AsyncIterator[Commit]:
        async def commit() -> None:
            # A commit slow to come back: the server's answer is in before it does.
            readable, _, _ = select.select([connection], [], [], 10)
            assert readable, "the server did not answer the end-of-data line"

        yield commit

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "kith@kith.test", "ada@example.org", "Hi"
    message.set_content("See you then.")
    await client.send_over(message, handing_over())
    await client.quit()
    [kept] = read_mailbox(server.folder)
    assert subject(kept) == "Hi"
