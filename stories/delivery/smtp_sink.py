"""A real SMTP server on 127.0.0.1 for the delivery story (aiosmtpd), run as its own process.

Every message it accepts is appended to a JSON-lines file (recipients, Message-ID, subject, body).
A small JSON control file, read at every command, makes it misbehave as real servers do:
`{"delay": 5}` waits that many seconds before answering DATA, `{"refuse": ["a@x"]}` answers
550 to those recipients. Stop it with SIGTERM.

    python smtp_sink.py --port 2525 --store mail.jsonl --control control.json
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, store: Path, control: Path) -> None:
        self.store = store
        self.control = control
        self.lock = threading.Lock()

    def settings(self) -> dict:
        try:
            return json.loads(self.control.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in {a.lower() for a in self.settings().get("refuse", [])}:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        delay = float(self.settings().get("delay", 0))
        if delay:
            await asyncio.sleep(delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "to": envelope.rcpt_tos,
            "message_id": message["Message-ID"],
            "subject": " ".join(str(message["Subject"]).split()),  # unfolded
            "body": body.get_content() if body is not None else "",
            "attachments": [part.get_content_type() for part in message.iter_attachments()],
            "at": time.time(),
        }
        with self.lock, self.store.open("a") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--control", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.store, args.control), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"smtp sink on 127.0.0.1:{args.port}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
