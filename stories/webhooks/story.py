"""The webhooks story: real gunicorn, real worker, receivers on 127.0.0.1 that verify with `standardwebhooks`.

Driven by scripts/ci/webhooks.sh, which starts gunicorn (with plain http and 127.0.0.1 allowed for
webhooks, quick retries and a short lease) and passes its address. This script starts the worker
(`manage.py worker`) and the receivers itself (tests.support.WebhookReceiver, in this process), and
tells the story step by step:

1. bob registers an endpoint; alice's friend request reaches it signed, and the receiver, which fails
   the first two deliveries, verifies every attempt with the reference library and takes the third;
   the deliveries list shows the three attempts;
2. friends plan a meeting: the invitation and the fixed meeting arrive, signed, with the ids and fields
   a receiver needs;
3. the worker is killed (SIGKILL) while a receiver holds an attempt, and started again: the delivery
   arrives after the lease, with the same `webhook-id`;
4. a rotated secret: both secrets sign for a while, the receiver verifies either;
5. a receiver answering 410 Gone: its endpoint is disabled, and says why;
6. URLs to this machine's other addresses and to the metadata service are refused at registration;
7. bob exports his data (his endpoint, without its secret) and deletes his account: his endpoint goes.

Exits non-zero with `webhooks: N passed, M failed` when something is wrong.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import StoryRun, WebhookReceiver, expect, stop_process  # noqa: E402

PASSWORD = "c0rrect-h0rse-battery"  # noqa: S105 (the story's own users)
NAMES = ["alice", "bob", "carol"]


class Verifying:
    """A receiver's script: verify each request with the reference library; answer the given statuses, then 204."""

    def __init__(self, *answers: int) -> None:
        self.secrets: list[str] = []
        self.answers = list(answers)
        self.verified: list[dict] = []  # {"id", "timestamp", "event", "at"}
        self.refused = 0

    def __call__(self, request):
        headers = {k.lower(): v for k, v in request["headers"].items()}
        event = None
        for secret in self.secrets:
            try:
                event = Webhook(secret).verify(request["body"], headers)
                break
            except WebhookVerificationError:
                continue
        if event is None:
            self.refused += 1
            return 401
        self.verified.append(
            {
                "id": headers["webhook-id"],
                "timestamp": headers["webhook-timestamp"],
                "event": event,
                "at": time.monotonic(),
            }
        )
        return self.answers.pop(0) if self.answers else 204


class Story(StoryRun):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.base_url)
        self.work = Path(args.work)
        self.python = args.python
        self.worker: subprocess.Popen | None = None
        self.ids: dict[str, int] = {}

    # --- processes and HTTP -----------------------------------------------------------------------------------

    def start_worker(self) -> None:
        log = (self.work / "worker.log").open("a")
        self.worker = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [self.python, "manage.py", "worker", "--interval", "0.1"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )

    def wait_for(self, what: str, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def register(self, owner: str, url: str, events: list[str]) -> dict:
        return self.ok(201, "POST", "/webhooks/", {"url": url, "events": events}, user=owner)

    def deliveries(self, owner: str, endpoint_id: int) -> list[dict]:
        return self.ok(200, "GET", f"/webhooks/{endpoint_id}/deliveries/", user=owner)["results"]

    # --- the story ----------------------------------------------------------------------------------------------

    def story(self, bob_receiver: WebhookReceiver, bob_script: Verifying, carol_receiver: WebhookReceiver) -> None:
        self.start_worker()
        for name in NAMES:
            body = {"username": name, "password": PASSWORD, "password2": PASSWORD}
            self.ok(201, "POST", "/auth/register/", body)
            self.tokens[name] = self.ok(200, "POST", "/auth/login/", {"username": name, "password": PASSWORD})["access"]
            self.ids[name] = self.ok(200, "GET", "/auth/me/", user=name)["id"]
        events = ["contact.requested", "invitation.created", "calendar.finalized", "calendar.unfinalized"]
        bob = self.register("bob", bob_receiver.url("/oneonone"), events)
        bob_script.secrets.append(bob["secret"])
        expect(bob["secret"].startswith("whsec_"), bob)
        shown = self.ok(200, "GET", f"/webhooks/{bob['id']}/", user="bob")
        expect("secret" not in shown, shown)

        def fails_twice_then_succeeds():
            sent = time.monotonic()
            self.ok(200, "POST", "/contacts/add/", {"username": "bob"}, user="alice")
            self.wait_for("the third attempt", lambda: len(bob_script.verified) >= 3)
            attempts = bob_script.verified[:3]
            expect(len({a["id"] for a in attempts}) == 1, attempts)
            expect([a["event"]["type"] for a in attempts] == ["contact.requested"] * 3, attempts)
            data = attempts[-1]["event"]["data"]
            expect(data["requester"] == {"id": self.ids["alice"], "username": "alice"}, data)
            expect(bob_script.refused == 0, "a signature did not verify")
            self.figures["contact.requested: first attempt after the request (ms)"] = round(
                (attempts[0]["at"] - sent) * 1000
            )
            self.figures["contact.requested: delivered after (s), two failures retried"] = round(
                attempts[2]["at"] - sent, 1
            )

            def settled():
                found = self.deliveries("bob", bob["id"])
                return found if found and found[0]["status"] == "succeeded" else None

            (delivery,) = self.wait_for("the delivery to show succeeded", settled)
            statuses = [a["response_status"] for a in delivery["recent_attempts"]]
            expect((delivery["attempts"], delivery["response_status"], statuses) == (3, 204, [204, 500, 500]), delivery)
            expect(delivery["message_id"] == attempts[0]["id"], delivery)

        self.check(
            "a receiver that fails twice gets the third attempt, verified by standardwebhooks",
            fails_twice_then_succeeds,
        )

        def planning():
            before = len(bob_script.verified)
            self.ok(200, "POST", "/contacts/accept/", {"username": "alice"}, user="bob")
            calendar = self.ok(201, "POST", "/calendars/", {
                "title": "Board games", "timezone": "Europe/Berlin",
                "days": [{"date": "2031-03-04", "ranking": 1}],
            }, user="alice")  # fmt: skip
            invitation = self.ok(
                201, "POST", f"/calendars/{calendar['id']}/invitations/", {"invitee_username": "bob"}, user="alice"
            )
            self.ok(
                204, "PUT", f"/calendars/{calendar['id']}/invitations/{invitation['id']}/",
                {"status": "accepted"}, user="bob",
            )  # fmt: skip
            meeting = {"date": "2031-03-04", "start_time": "19:00", "end_time": "22:00"}
            self.ok(200, "POST", f"/calendars/{calendar['id']}/finalize/", meeting, user="alice")
            self.wait_for("two more events", lambda: len(bob_script.verified) >= before + 2)
            by_type = {a["event"]["type"]: a["event"]["data"] for a in bob_script.verified[before:]}
            invited = by_type["invitation.created"]
            expect(invited["invitation"]["id"] == invitation["id"], invited)
            expect(invited["calendar"]["days"] == [{"date": "2031-03-04", "ranking": 1}], invited)
            fixed = by_type["calendar.finalized"]
            expect(fixed["meeting"]["starts_at"] == "2031-03-04T19:00:00+01:00", fixed)
            expect(fixed["participants"] == [{"id": self.ids["bob"], "username": "bob"}], fixed)
            self.calendar_id = calendar["id"]

        self.check("an invitation and a fixed meeting arrive with what a receiver needs", planning)

        def worker_killed():
            before = len(bob_script.verified)
            holding = []

            def hold(request):
                holding.append(time.monotonic())
                time.sleep(3)  # long enough to kill the worker meanwhile
                return bob_script(request)

            bob_receiver.answers.append(hold)
            self.ok(200, "DELETE", f"/calendars/{self.calendar_id}/finalize/", user="alice")
            self.wait_for("the attempt to reach the receiver", lambda: holding)
            self.worker.kill()
            self.worker.wait()
            self.start_worker()
            arrived = self.wait_for(
                "the delivery after the lease",
                lambda: bob_script.verified if len(bob_script.verified) >= before + 2 else None,
            )
            ids = {a["id"] for a in arrived[before:]}
            types = {a["event"]["type"] for a in arrived[before:]}
            expect(len(ids) == 1 and types == {"calendar.unfinalized"}, arrived[before:])
            self.figures["worker killed mid-attempt: copies received with the same webhook-id"] = len(arrived) - before
            self.figures["worker killed mid-attempt: both copies in, after the attempt began (s)"] = round(
                max(a["at"] for a in arrived[before:]) - holding[0], 1
            )

        self.check("a worker killed mid-attempt: delivered again after the lease, same webhook-id", worker_killed)

        def rotated():
            rotation = self.ok(200, "POST", f"/webhooks/{bob['id']}/rotate-secret/", user="bob")
            expect(rotation["secret"] != bob["secret"], rotation)
            before = len(bob_script.verified)
            seen = []
            bob_receiver.answers.append(lambda request: seen.append(request) or bob_script(request))
            self.ok(200, "POST", "/contacts/add/", {"username": "bob"}, user="carol")
            self.wait_for("the signed request", lambda: len(bob_script.verified) > before)
            (request,) = seen
            signatures = request["headers"]["webhook-signature"].split(" ")
            expect(len(signatures) == 2, signatures)
            for secret in (bob["secret"], rotation["secret"]):
                Webhook(secret).verify(request["body"], {k.lower(): v for k, v in request["headers"].items()})

        self.check("after a rotation both secrets sign", rotated)

        def gone():
            carol = self.register("carol", carol_receiver.url(), ["contact.accepted"])
            self.ok(200, "POST", "/contacts/accept/", {"username": "carol"}, user="bob")

            def disabled():
                shown = self.ok(200, "GET", f"/webhooks/{carol['id']}/", user="carol")
                return shown if not shown["active"] else None

            shown = self.wait_for("the endpoint to be disabled", disabled)
            expect(shown["disabled_reason"] == "The endpoint answered 410 Gone: it wants no more deliveries.", shown)
            expect(len(carol_receiver.requests) == 1, carol_receiver.requests)

        self.check("a receiver answering 410 Gone has its endpoint disabled", gone)

        def refused():
            for url, reason in [
                (f"http://127.0.0.2:{bob_receiver.port}/", "127.0.0.2, a loopback address"),
                ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
                ("http://2130706434/", "127.0.0.2, a loopback address"),
                ("http://[::ffff:10.0.0.1]/", "::ffff:a00:1, a private address"),
            ]:
                status, answer = self.call(
                    "POST", "/webhooks/", {"url": url, "events": ["contact.requested"]}, user="alice"
                )
                expect(status == 400 and reason in answer["url"][0], (url, status, answer))

        self.check("URLs to this machine and the metadata service are refused", refused)

        def my_data():
            exported = self.ok(200, "GET", "/auth/me/export/", user="bob")
            (endpoint,) = exported["webhooks"]
            expect(endpoint["id"] == bob["id"] and "secret" not in endpoint, endpoint)
            expect(bob["secret"] not in json.dumps(exported), "the export holds the secret")
            status, answer = self.call("DELETE", "/auth/me/", {"password": "wrong"}, user="bob")
            expect(status == 400, answer)
            self.ok(204, "DELETE", "/auth/me/", {"password": PASSWORD}, user="bob")
            status, answer = self.call("GET", "/webhooks/", user="bob")
            expect((status, answer) == (401, {"detail": "User not found", "code": "user_not_found"}), answer)

        self.check("bob exports his data without secrets, then deletes his account", my_data)

    def run(self) -> int:
        bob_script = Verifying(500, 500)
        try:
            with WebhookReceiver(then=bob_script) as bob_receiver, WebhookReceiver([410]) as carol_receiver:
                self.story(bob_receiver, bob_script, carol_receiver)
        finally:
            stop_process(self.worker)
        return self.finish("webhooks")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--python", default=sys.executable)
    sys.exit(Story(parser.parse_args()).run())


if __name__ == "__main__":
    main()
