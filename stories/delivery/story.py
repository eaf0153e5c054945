"""The delivery story: real gunicorn, real worker, real SMTP server; nothing lost, nothing doubled.

Driven by scripts/ci/delivery.sh, which starts gunicorn on a database and passes its address. This
script starts (and stops, and kills) the SMTP server (smtp_sink.py) and the worker (`manage.py worker`)
itself, and tells the story step by step:

1. people register and confirm their addresses through the links the SMTP server received, plan a
   meeting and fix it: every member gets exactly one notice;
2. the SMTP server goes away, the meeting is undone, the server comes back: every cancellation arrives, once;
3. the worker is killed (SIGKILL) in the middle of a batch and started again: every notice arrives, and
   none twice as far as anyone can see (a message sent again carries the Message-ID it had);
4. one mailbox is refused (550): the others still get theirs, that one ends failed with the server's answer;
5. the time `POST /calendars/{id}/finalize/` takes with a mail server that answers after 5 s, beside none.

Exits non-zero with `delivery: N passed, M failed` when something is wrong.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import StoryRun, expect, free_port, stop_process  # noqa: E402

PASSWORD = "c0rrect-h0rse-battery"  # noqa: S105 (the story's own users)
DOMAIN = "delivery.example.test"
NAMES = ["alice", "bob", "carol", "dave"]


class Story(StoryRun):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.base_url)
        self.work = Path(args.work)
        self.python = args.python
        self.health_token = args.health_token
        self.store = self.work / "mail.jsonl"
        self.control = self.work / "control.json"
        self.smtp_port = args.smtp_port
        self.smtp: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.ids: dict[str, int] = {}

    # --- processes ------------------------------------------------------------------------------------------

    def start_smtp(self) -> None:
        log = (self.work / "smtp.log").open("a")
        self.smtp = subprocess.Popen(  # noqa: S603 (our own script)
            [self.python, str(Path(__file__).with_name("smtp_sink.py")), "--port", str(self.smtp_port),
             "--store", str(self.store), "--control", str(self.control)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "smtp sink on" in (self.work / "smtp.log").read_text():
                return
            time.sleep(0.1)
        raise RuntimeError("the SMTP server did not start")

    def stop_smtp(self) -> None:
        stop_process(self.smtp)
        (self.work / "smtp.log").write_text("")

    def start_worker(self) -> None:
        log = (self.work / "worker.log").open("a")
        self.worker = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [self.python, "manage.py", "worker", "--interval", "0.2"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )

    def set_smtp(self, **settings) -> None:
        self.control.write_text(json.dumps(settings))

    # --- HTTP -----------------------------------------------------------------------------------------------

    # --- the mail that arrived ----------------------------------------------------------------------------------

    def mail(self) -> list[dict]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text().splitlines() if line.strip()]

    def wait_count(self, what: str, predicate, count: int, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mail() if predicate(m)]
            ids = {m["message_id"] for m in found}
            if len(ids) >= count:
                return found
            if time.monotonic() >= deadline:
                subjects = [m["subject"] for m in self.mail()]
                raise AssertionError(f"timed out waiting for {count} x {what}: {len(ids)} arrived; all: {subjects}")
            time.sleep(0.2)

    def queue(self) -> dict:
        answer = self.ok(200, "GET", "/healthz/?detail=1", headers={"X-Health-Token": self.health_token})
        return answer["details"]["email"]

    def wait_queue_settled(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.queue()
            if stats["queued"] == 0 and stats["running"] == 0:
                return stats
            if time.monotonic() >= deadline:
                raise AssertionError(f"the queue did not empty: {stats}")
            time.sleep(0.3)

    # --- steps ----------------------------------------------------------------------------------------------

    def register_and_confirm(self) -> None:
        for name in NAMES:
            body = {"username": name, "email": f"{name}@{DOMAIN}", "password": PASSWORD, "password2": PASSWORD}
            self.ok(201, "POST", "/auth/register/", body)
        confirmations = self.wait_count("confirmations", lambda m: m["subject"].startswith("Confirm"), len(NAMES))
        for name in NAMES:
            (message,) = [m for m in confirmations if m["to"] == [f"{name}@{DOMAIN}"]]
            link = re.search(r"https?://\S+/auth/email/verify/\?token=([\w-]+)", message["body"])
            expect(link, message["body"])
            self.ok(200, "POST", "/auth/email/verify/", {"token": link.group(1)})
            self.tokens[name] = self.ok(200, "POST", "/auth/login/", {"username": name, "password": PASSWORD})["access"]
            me = self.ok(200, "GET", "/auth/me/", user=name)
            expect(me["email_verified"] is True, me)
            self.ids[name] = me["id"]
        for name in NAMES[1:]:  # only friends are invited
            self.ok(200, "POST", "/contacts/add/", {"username": name}, user="alice")
            self.ok(200, "POST", "/contacts/accept/", {"username": "alice"}, user=name)

    def plan(self, title: str) -> int:
        calendar = self.ok(201, "POST", "/calendars/", {
            "title": title, "timezone": "Europe/Berlin",
            "days": [{"date": "2031-03-04", "ranking": 1}, {"date": "2031-03-05", "ranking": 2}],
        }, user="alice")  # fmt: skip
        for name in NAMES[1:]:
            invitation = self.ok(201, "POST", f"/calendars/{calendar['id']}/invitations/",
                                 {"invitee_username": name}, user="alice")  # fmt: skip
            self.ok(204, "PUT", f"/calendars/{calendar['id']}/invitations/{invitation['id']}/",
                    {"status": "accepted"}, user=name)  # fmt: skip
        return calendar["id"]

    def finalize(self, calendar_id: int) -> float:
        started = time.monotonic()
        self.ok(200, "POST", f"/calendars/{calendar_id}/finalize/",
                {"date": "2031-03-04", "start_time": "10:00", "end_time": "11:00"}, user="alice")  # fmt: skip
        return time.monotonic() - started

    def notices(self, prefix: str, title: str):
        return lambda m: m["subject"].startswith(f"{prefix}: {title},")

    def assert_once_each(self, found: list[dict], what: str) -> None:
        by_recipient = Counter(m["to"][0] for m in found)
        distinct = {(m["to"][0], m["message_id"]) for m in found}
        per_person = Counter(to for to, _ in distinct)
        expected = {f"{name}@{DOMAIN}": 1 for name in NAMES}
        expect(dict(per_person) == expected, f"{what}: distinct messages per person {dict(per_person)}")
        copies = sum(by_recipient.values()) - len(distinct)
        self.figures[f"{what}: copies resent with the same Message-ID"] = copies

    def story(self) -> None:
        self.set_smtp()
        self.start_smtp()
        self.start_worker()
        self.check("people confirm their addresses from the links mailed to them", self.register_and_confirm)
        if len(self.tokens) != len(NAMES):
            return
        first = self.plan("Kickoff")

        def fixed_once():
            self.finalize(first)
            found = self.wait_count("Meeting fixed", self.notices("Meeting fixed", "Kickoff"), len(NAMES))
            time.sleep(1.5)  # would a second copy follow?
            found = [m for m in self.mail() if self.notices("Meeting fixed", "Kickoff")(m)]
            self.assert_once_each(found, "fixed")
            answers = [m for m in self.mail() if "accepted your invitation to Kickoff" in m["subject"]]
            expect(len({m["message_id"] for m in answers}) == 3, [m["subject"] for m in answers])

        self.check("every member gets the fixed meeting exactly once", fixed_once)

        def server_away():
            self.stop_smtp()
            self.ok(200, "DELETE", f"/calendars/{first}/finalize/", user="alice")
            time.sleep(3)  # the worker meets a closed port and schedules its retries
            stats = self.queue()
            expect(stats["queued"] + stats["running"] >= 1, stats)
            expect(not [m for m in self.mail() if self.notices("Meeting cancelled", "Kickoff")(m)])
            self.start_smtp()
            found = self.wait_count("cancellations", self.notices("Meeting cancelled", "Kickoff"), len(NAMES))
            self.wait_queue_settled()
            found = [m for m in self.mail() if self.notices("Meeting cancelled", "Kickoff")(m)]
            self.assert_once_each(found, "cancelled while the server was away")

        self.check("with the mail server away, every notice waits and arrives once", server_away)

        def worker_killed():
            titles = ["Batch one", "Batch two", "Batch three"]
            calendars = [self.plan(title) for title in titles]
            self.wait_queue_settled()
            self.set_smtp(delay=0.4)
            for calendar_id in calendars:
                self.finalize(calendar_id)
            # Kill the worker once a few of the 12 messages are through.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                through = [m for m in self.mail() if m["subject"].startswith("Meeting fixed: Batch")]
                if len(through) >= 3:
                    break
                time.sleep(0.05)
            self.worker.kill()
            self.worker.wait()
            killed_at = len([m for m in self.mail() if m["subject"].startswith("Meeting fixed: Batch")])
            self.figures["messages through when the worker was killed"] = killed_at
            expect(killed_at < 12, "the batch was over before the kill")
            self.set_smtp()
            self.start_worker()
            for title in titles:
                self.wait_count(f"fixed {title}", self.notices("Meeting fixed", title), len(NAMES))
            self.wait_queue_settled()
            for title in titles:
                found = [m for m in self.mail() if self.notices("Meeting fixed", title)(m)]
                self.assert_once_each(found, f"fixed {title} across the kill")

        self.check("a worker killed mid-batch loses nothing and doubles nothing", worker_killed)

        def mailbox_refused():
            before = self.queue()["failed"]
            self.set_smtp(refuse=[f"carol@{DOMAIN}"])
            self.ok(200, "DELETE", f"/calendars/{first}/finalize/", user="alice")  # nothing fixed: no notice
            self.finalize(first)
            others = self.wait_count("fixed again", self.notices("Meeting fixed", "Kickoff"), len(NAMES) * 2 - 1)
            self.wait_queue_settled()
            carol = [m for m in others if m["to"] == [f"carol@{DOMAIN}"]]
            expect(len(carol) == 1, carol)  # only the first time, before her mailbox was refused
            stats = self.queue()
            expect(stats["failed"] == before + 1, stats)
            show = "from delivery.models import Email; e = Email.objects.get(status='failed')\n"
            show += "print(e.to, e.attempts, e.last_error)"
            error = subprocess.run(  # noqa: S603 (our own manage.py)
                [self.python, "manage.py", "shell", "-v", "0", "-c", show],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout.strip()
            expect(error == f"carol@{DOMAIN} 1 carol@{DOMAIN}: 550 5.1.1 No such mailbox here", error)
            self.set_smtp()

        self.check("a refused mailbox fails alone, with the server's answer", mailbox_refused)

        def latency():
            timings = {}
            for delay in (0, 5):
                self.set_smtp(delay=delay)
                self.ok(200, "DELETE", f"/calendars/{first}/finalize/", user="alice")
                runs = []
                for _ in range(3):
                    runs.append(self.finalize(first))
                    self.ok(200, "DELETE", f"/calendars/{first}/finalize/", user="alice")
                timings[delay] = sorted(runs)[1]
            self.set_smtp()
            self.figures["finalize p50, mail server answering at once (ms)"] = round(timings[0] * 1000, 1)
            self.figures["finalize p50, mail server answering after 5 s (ms)"] = round(timings[5] * 1000, 1)
            expect(timings[5] < 1.0, timings)
            expect(timings[5] < timings[0] + 0.5, timings)

        self.check("the request does not wait for the mail server", latency)

        def loop_closes():
            # A deadline a few seconds ahead; everyone answers and marks a slot before it.
            deadline = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=8)
            mine = [{"start_time": "09:00", "end_time": "12:00"}]
            calendar = self.ok(201, "POST", "/calendars/", {
                "title": "Closing", "timezone": "Europe/Berlin", "respond_by": deadline.isoformat(),
                "days": [{"date": "2031-03-04", "ranking": 1, "timeslots": mine}],
            }, user="alice")  # fmt: skip
            day = calendar["days"][0]["id"]
            for name, answer in [("bob", "accepted"), ("carol", "accepted"), ("dave", "rejected")]:
                invitation = self.ok(201, "POST", f"/calendars/{calendar['id']}/invitations/",
                                     {"invitee_username": name}, user="alice")  # fmt: skip
                self.ok(204, "PUT", f"/calendars/{calendar['id']}/invitations/{invitation['id']}/",
                        {"status": answer}, user=name)  # fmt: skip
            for name in ("bob", "carol"):
                self.ok(201, "POST", f"/calendars/{calendar['id']}/day/{day}/timeslot/",
                        {"start_time": "10:00", "end_time": "11:00"}, user=name)  # fmt: skip
            answered = self.wait_count(
                "everyone answered", lambda m: m["subject"] == "Everyone has answered: Closing", 1
            )
            expect("The best one-hour time: Tuesday 4 March 2031, 10:00" in answered[0]["body"], answered[0]["body"])
            expect(answered[0]["to"] == [f"alice@{DOMAIN}"], answered[0]["to"])
            # After the deadline only the creator writes; and the creator hears of it, once.
            time.sleep(max(0.0, (deadline - datetime.datetime.now(datetime.UTC)).total_seconds()) + 0.5)
            status, answer = self.call("POST", f"/calendars/{calendar['id']}/day/{day}/timeslot/",
                                       {"start_time": "14:00", "end_time": "15:00"}, user="bob")  # fmt: skip
            expect(status == 409 and "deadline" in answer["detail"], (status, answer))
            passed = self.wait_count("deadline passed", lambda m: m["subject"] == "Deadline passed: Closing", 1, 30)
            expect("Everyone invited answered." in passed[0]["body"], passed[0]["body"])
            time.sleep(3)  # would a second one follow (the sweep runs every second here)?
            for subject in ("Everyone has answered: Closing", "Deadline passed: Closing"):
                copies = [m for m in self.mail() if m["subject"] == subject]
                expect(len(copies) == 1, f"{subject}: {len(copies)} copies")

        self.check("everyone answered, then the deadline passed: the creator hears each once", loop_closes)

    def run(self) -> int:
        try:
            self.story()
        finally:
            stop_process(self.worker, self.smtp)
        return self.finish("delivery")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("EMAIL_PORT") or free_port()))
    parser.add_argument("--health-token", default=os.environ.get("HEALTH_DETAIL_TOKEN", ""))
    sys.exit(Story(parser.parse_args()).run())


if __name__ == "__main__":
    main()
