"""The mock provider: `python smsleopard.py mock-provider` is the provider side as its own
HTTP server, for demos, benchmarks and tests. It speaks one gateway's dialect (`--dialect`):
the generic JSON provider's POST /messages, or Twilio's, Africa's Talking's, Infobip's,
Kannel's or the WhatsApp Cloud API's send request, answers, errors and delivery reports, each
in its own format and signature; or, with --dialect smpp, an SMSC (smpp34's) accepting binds
on --smpp-port. With latency, failures, a rate limit, an idempotency key where the dialect
has one, and delivery reports posted to the message's callback (or --receipt-url, where the
real gateway's is set in its console).
"""

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import itertools
import json
import logging
import random
import secrets
import signal
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl
from aiohttp import web

from smsleopard import (
    UNROUTABLE_PREFIXES,
    Clock,
    ConfigError,
    _ArgumentParser,
    _dumps,
    _flag,
    channel_limit_problem,
    listen_socket,
    log,
    refill,
    secret_problem,
    tune_collector,
    twilio_signature,
    utc_iso,
    webhook_headers,
    whatsapp_signature,
)

DIALECTS = ("generic", "twilio", "africastalking", "infobip", "kannel", "whatsapp", "smpp")


@dataclass(frozen=True)
class MockProviderConfig:
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on"})
    port: int = field(default=9090, metadata={"help": "TCP port, 0..65535 (0 picks a free one)"})
    dialect: str = field(default="generic", metadata={
        "help": "the gateway it plays: " + ", ".join(DIALECTS)})
    latency_ms: float = field(default=0.0, metadata={
        "help": "milliseconds each request takes before its answer (>= 0)"})
    failure_rate: float = field(default=0.0, metadata={
        "help": "share of requests answered as a transient failure (503 or the dialect's), 0..1"})
    max_rps: float = field(default=0.0, metadata={
        "help": "messages per second it takes (>= 0; 0: no limit); over it: 429 with "
                "Retry-After (Kannel: 503, as its smsbox says it)"})
    delivery_rate: float = field(default=1.0, metadata={
        "help": "share of accepted messages whose report says delivered, 0..1"})
    receipt_delay_ms: float = field(default=0.0, metadata={
        "help": "milliseconds between accepting a message and posting its report (>= 0)"})
    receipt_secret: str = field(default="", repr=False, metadata={
        "help": "generic dialect: whsec_<base64>, the Standard Webhooks secret reports are "
                "signed with"})
    receipt_url: str = field(default="", metadata={
        "help": "where reports go for a dialect whose callback is set in the gateway's console "
                "(africastalking, whatsapp); empty: the message's own callback"})
    app_secret: str = field(default="", repr=False, metadata={
        "help": "whatsapp dialect: the app secret its webhooks are signed with "
                "(X-Hub-Signature-256)"})
    seed: int = field(default=0, metadata={
        "help": "with each message's reference, decides its report (the same every run)"})
    smpp_port: int = field(default=2775, metadata={
        "help": "smpp dialect: the TCP port the SMSC accepts binds on, 1..65535 (HTTP GET "
                "/stats stays on --port)"})


RECEIPT_BATCH = 1000  # receipts posted at once to one callback
UNDELIVERED_REASONS = ("handset switched off", "subscriber absent", "carrier rejected the message")
OPTED_OUT_PREFIXES = ("+998",)  # numbers whose owner opted out at the gateway (Twilio, AT)


class Refused(Exception):
    """A request the dialect refuses as a whole: its answer."""

    def __init__(self, response: web.Response):
        self.response = response


@dataclass
class Incoming:
    """One message of a request, as the mock sees it in any dialect."""

    key: str | None       # the idempotency key (None: the dialect has none)
    to: str
    text: str
    callback: str | None  # where its report goes
    reference: str = ""   # our reference where the dialect carries it
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    """A delivery report due for one accepted message."""

    message: Incoming
    provider_id: str
    delivered: bool
    reason: str = ""


def _hex(n: int) -> str:
    return secrets.token_hex(n)


class Dialect:
    """How one gateway words requests, answers and reports. Outcomes: ('accepted', id),
    ('unroutable',), ('opted_out',), ('failed',), ('throttled',)."""

    method, path = "POST", "/messages"

    async def parse(self, request: web.Request) -> list[Incoming]:
        raise NotImplementedError

    def answer(self, outcomes: list[tuple[Incoming, tuple]]) -> web.Response:
        raise NotImplementedError

    def whole(self, outcome: str) -> web.Response:
        """The answer to a request refused as a whole: 'failed' or 'throttled'."""
        status = 429 if outcome == "throttled" else 503
        return web.json_response({"error": {"message": "too many requests" if status == 429
                                            else "temporarily unavailable"}}, status=status,
                                 headers={"Retry-After": "1"} if status == 429 else None)

    def new_id(self, message: Incoming) -> str:
        return f"mp-{_hex(6)}"

    def reports(self, callback: str, batch: list[Report], config: MockProviderConfig,
                clock: Clock) -> list[dict[str, Any]]:
        """The requests (aiohttp request keywords) that carry `batch` to `callback`."""
        raise NotImplementedError


class GenericDialect(Dialect):
    async def parse(self, request: web.Request) -> list[Incoming]:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            for name in ("reference", "channel", "to", "text"):
                if not isinstance(body.get(name), str) or not body[name]:
                    raise ValueError(f"{name} is required and must be a string")
            if problem := channel_limit_problem(body["channel"], body["text"]):
                raise ValueError(problem)
        except (ValueError, TypeError) as exc:
            answer = web.json_response({"error": {"message": str(exc)}}, status=400)
            raise Refused(answer) from None
        return [Incoming(body["reference"], body["to"], body["text"], body.get("callback_url"),
                         body["reference"])]

    def answer(self, outcomes: list[tuple[Incoming, tuple]]) -> web.Response:
        message, outcome = outcomes[0]
        if outcome[0] == "accepted":
            return web.json_response({"id": outcome[1]})
        if outcome[0] in ("unroutable", "opted_out"):
            return web.json_response({"error": {"message": f"no route to {message.to}"}},
                                     status=400)
        return self.whole(outcome[0])

    def reports(self, callback, batch, config, clock):
        receipts = []
        for report in batch:
            receipt = {"reference": report.message.reference,
                       "status": "delivered" if report.delivered else "undelivered",
                       "timestamp": utc_iso(clock.now())}
            if not report.delivered:
                receipt["error"] = report.reason
            receipts.append(receipt)
        body = _dumps({"receipts": receipts} if len(receipts) > 1 else receipts[0]).encode()
        headers = {"Content-Type": "application/json"}
        if config.receipt_secret:
            headers |= webhook_headers(config.receipt_secret, f"rcpt_{_hex(8)}", clock.now(),
                                       body)
        return [{"method": "POST", "url": callback, "data": body, "headers": headers}]


def reference_in(callback: str | None) -> str:
    """Our reference, carried in a per-message callback URL's ?ref=."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(callback or "").query).get("ref", [""])[0]


def basic_auth(request: web.Request) -> tuple[str, str]:
    """(login, password) of an Authorization: Basic header; empty when there is none."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        login, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return "", ""
    return (login, password) if scheme.lower() == "basic" else ("", "")


class TwilioDialect(Dialect):
    path = "/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # account sid -> auth token seen (reports are signed)

    async def parse(self, request: web.Request) -> list[Incoming]:
        sid, token = basic_auth(request)
        if not token or sid != request.match_info["sid"]:
            raise Refused(self._error(401, 20003, "Authenticate"))
        self.tokens[sid] = token
        form = await request.post()
        if not form.get("To") or not form.get("Body") or not (
                form.get("From") or form.get("MessagingServiceSid")):
            raise Refused(self._error(400, 21604, "A 'To', 'Body' and 'From' are required"))
        callback = form.get("StatusCallback") or None
        ref = reference_in(callback)
        return [Incoming(ref or None, str(form["To"]).removeprefix("whatsapp:"),
                         str(form["Body"]), callback, ref, {"sid": sid, "to": str(form["To"])})]

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "status": status,
                                  "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                                 status=status)

    def new_id(self, message: Incoming) -> str:
        return "SM" + _hex(16)

    def answer(self, outcomes):
        message, outcome = outcomes[0]
        if outcome[0] == "accepted":
            return web.json_response({"sid": outcome[1], "status": "queued", "to": message.to,
                                      "body": message.text}, status=201)
        if outcome[0] == "unroutable":
            return self._error(400, 21211, f"The 'To' number {message.to} is not a valid phone "
                                           "number.")
        if outcome[0] == "opted_out":
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        return self.whole(outcome[0])

    def whole(self, outcome):
        if outcome == "throttled":
            return self._error(429, 20429, "Too Many Requests")
        return self._error(503, 20503, "Service Unavailable")

    def reports(self, callback, batch, config, clock):
        requests = []
        for report in batch:
            form = {"MessageSid": report.provider_id, "SmsSid": report.provider_id,
                    "AccountSid": report.message.extra["sid"], "To": report.message.extra["to"],
                    "MessageStatus": "delivered" if report.delivered else "undelivered",
                    "ApiVersion": "2010-04-01"}
            if not report.delivered:
                form |= {"ErrorCode": "30003", "ErrorMessage": report.reason}
            token = self.tokens[report.message.extra["sid"]]
            requests.append({"method": "POST", "url": callback, "data": form, "headers": {
                "X-Twilio-Signature": twilio_signature(token, callback, form)}})
        return requests


class AfricasTalkingDialect(Dialect):
    path = "/version1/messaging"

    async def parse(self, request: web.Request) -> list[Incoming]:
        if not request.headers.get("apiKey"):
            raise Refused(web.Response(status=401, text="The supplied authentication is invalid"))
        if "application/json" not in request.headers.get("Accept", ""):  # as Africa's Talking
            raise Refused(web.Response(status=201, content_type="application/xml", text=(
                "<AfricasTalkingResponse><SMSMessageData><Message>Sent to 1/1</Message>"
                "</SMSMessageData></AfricasTalkingResponse>")))
        form = await request.post()
        if not form.get("username") or not form.get("to") or "message" not in form:
            raise Refused(web.Response(status=400, text="Request is missing required form field"))
        to, text = str(form["to"]), str(form["message"])
        return [Incoming(f"{to}\n{text}", to, text, None)]  # no reference: the same text again

    def new_id(self, message: Incoming) -> str:
        return f"ATXid_{_hex(16)}"

    def answer(self, outcomes):
        message, outcome = outcomes[0]
        if outcome[0] in ("failed", "throttled"):
            return self.whole(outcome[0])
        code, status, message_id = {"accepted": (101, "Success", outcome[-1]),
                                    "unroutable": (403, "InvalidPhoneNumber", "None"),
                                    "opted_out": (406, "UserInBlacklist", "None")}[outcome[0]]
        sent = code == 101
        return web.json_response({"SMSMessageData": {
            "Message": f"Sent to {int(sent)}/1 Total Cost: KES {0.8 * sent:.4f}",
            "Recipients": [{"statusCode": code, "number": message.to, "status": status,
                            "cost": "KES 0.8000" if sent else "0", "messageId": message_id}]}},
            status=201)

    def whole(self, outcome):
        if outcome == "throttled":
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "1"})
        return web.Response(status=503, text="Service Unavailable")

    def reports(self, callback, batch, config, clock):
        return [{"method": "POST", "url": callback, "data": {
            "id": r.provider_id, "phoneNumber": r.message.to, "networkCode": "63902",
            "status": "Success" if r.delivered else "Failed",
            **({} if r.delivered else {"failureReason": "DeliveryFailure"})}} for r in batch]


class InfobipDialect(Dialect):
    path = "/sms/2/text/advanced"

    async def parse(self, request: web.Request) -> list[Incoming]:
        if not request.headers.get("Authorization", "").startswith("App "):
            raise Refused(self._error(401, "UNAUTHORIZED", "Invalid login details"))
        try:
            messages = (await request.json())["messages"]
            return [Incoming(m["destinations"][0]["messageId"], "+" + m["destinations"][0]["to"],
                             m["text"], m.get("notifyUrl"), m["destinations"][0]["messageId"])
                    for m in messages]
        except (ValueError, KeyError, TypeError, IndexError):
            raise Refused(self._error(400, "BAD_REQUEST", "Bad request")) from None

    @staticmethod
    def _error(status: int, message_id: str, text: str) -> web.Response:
        return web.json_response({"requestError": {"serviceException": {
            "messageId": message_id, "text": text}}}, status=status)

    def new_id(self, message: Incoming) -> str:
        return message.reference  # the messageId the client chose

    def answer(self, outcomes):
        if outcomes and outcomes[0][1][0] in ("failed", "throttled"):
            return self.whole(outcomes[0][1][0])
        accepted = {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "MESSAGE_ACCEPTED",
                    "description": "Message sent to next instance"}
        rejected = {"groupId": 5, "groupName": "REJECTED", "id": 14,
                    "name": "REJECTED_DESTINATION", "description": "Destination rejected"}
        return web.json_response({"bulkId": _hex(8), "messages": [
            {"to": m.to.removeprefix("+"), "messageId": m.reference, "smsCount": 1,
             "status": accepted if outcome[0] == "accepted" else rejected}
            for m, outcome in outcomes]})

    def whole(self, outcome):
        if outcome == "throttled":
            return web.json_response({
                "errorCode": "E429", "description": "Too many requests sent.",
                "action": "Check request rate limit", "violations": [], "resources": []},
                status=429)
        return self._error(500, "GENERAL_ERROR", "Something went wrong. Please contact support.")

    def reports(self, callback, batch, config, clock):
        delivered = {"groupId": 3, "groupName": "DELIVERED", "id": 5,
                     "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"}
        undelivered = {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9,
                       "name": "UNDELIVERABLE_NOT_DELIVERED", "description": "Not delivered"}
        no_error = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                    "description": "No Error", "permanent": False}
        results = [{"messageId": r.provider_id, "to": r.message.to.removeprefix("+"),
                    "doneAt": utc_iso(clock.now()), "smsCount": 1,
                    "status": delivered if r.delivered else undelivered,
                    "error": no_error if r.delivered else {
                        "groupId": 1, "groupName": "HANDSET_ERRORS", "id": 27,
                        "name": "EC_ABSENT_SUBSCRIBER", "description": r.reason,
                        "permanent": False}} for r in batch]
        return [{"method": "POST", "url": callback, "data": _dumps({"results": results}).encode(),
                 "headers": {"Content-Type": "application/json"}}]


class KannelDialect(Dialect):
    method, path = "GET", "/cgi-bin/sendsms"

    async def parse(self, request: web.Request) -> list[Incoming]:
        query = request.query
        if not query.get("username") or not query.get("password"):
            raise Refused(web.Response(status=403, text="Authorization failed for sendsms"))
        if not query.get("to"):
            raise Refused(web.Response(status=400, text="Missing receiver number, rejected"))
        callback = query.get("dlr-url") or None
        ref = reference_in(callback)
        return [Incoming(ref or None, query["to"], query.get("text", ""), callback, ref)]

    def new_id(self, message: Incoming) -> str:
        return ""  # Kannel gives none

    def answer(self, outcomes):
        outcome = outcomes[0][1]
        if outcome[0] == "accepted":
            return web.Response(status=202, text="0: Accepted for delivery")
        if outcome[0] in ("unroutable", "opted_out"):
            return web.Response(status=403, text="Not routable. Do not try again.")
        return self.whole(outcome[0])

    def whole(self, outcome):
        if outcome == "throttled":  # smsbox cannot queue it now
            return web.Response(status=503, text="Temporal failure, try again later.")
        return web.Response(status=500, text="Sending failed.")

    def reports(self, callback, batch, config, clock):
        requests = []
        for r in batch:
            stat = "DELIVRD" if r.delivered else "UNDELIV"
            reply = urllib.parse.quote(f"id:{_hex(4)} sub:001 dlvrd:00{int(r.delivered)} "
                                       f"stat:{stat} err:000", safe="")
            url = callback.replace("%d", "1" if r.delivered else "2").replace("%A", reply)
            requests.append({"method": "GET", "url": yarl.URL(url, encoded=True)})
        return requests


class WhatsAppDialect(Dialect):
    """Meta's WhatsApp Cloud API: JSON to /{version}/{PHONE_NUMBER_ID}/messages, errors by
    code (rate limits are HTTP 400), statuses posted to the webhook set in Meta's console and
    signed with the app secret."""

    path = "/{version}/{phone_number_id}/messages"

    async def parse(self, request: web.Request) -> list[Incoming]:
        if not request.headers.get("Authorization", "").startswith("Bearer ") or len(
                request.headers["Authorization"]) <= len("Bearer "):
            raise Refused(self._error(401, 190, "Invalid OAuth access token."))
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise Refused(self._error(400, 100, "Invalid parameter")) from None
        kind = body.get("type") if isinstance(body, dict) else None
        template = body.get("template") if kind == "template" else None
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp" or \
                not body.get("to") or kind not in ("text", "template") or (
                kind == "text" and not (body.get("text") or {}).get("body")) or (
                kind == "template" and not (template or {}).get("name")):
            raise Refused(self._error(400, 131008, "Required parameter is missing"))
        text = body["text"]["body"] if kind == "text" else json.dumps(template)
        ref = str(body.get("biz_opaque_callback_data") or "")
        return [Incoming(ref or None, "+" + str(body["to"]).lstrip("+"), text, None, ref,
                         {"phone_number_id": request.match_info["phone_number_id"]})]

    @staticmethod
    def _error(status: int, code: int, message: str, details: str = "") -> web.Response:
        return web.json_response({"error": {
            "message": f"(#{code}) {message}", "type": "OAuthException", "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or message},
            "fbtrace_id": _hex(8)}}, status=status)

    def new_id(self, message: Incoming) -> str:
        return "wamid." + base64.b64encode(secrets.token_bytes(27)).decode()

    def answer(self, outcomes):
        message, outcome = outcomes[0]
        if outcome[0] == "accepted":
            wa_id = message.to.removeprefix("+")
            return web.json_response({"messaging_product": "whatsapp",
                                      "contacts": [{"input": wa_id, "wa_id": wa_id}],
                                      "messages": [{"id": outcome[1]}]})
        if outcome[0] in ("unroutable", "opted_out"):
            return self._error(400, 131026, "Message undeliverable",
                               "Message Undeliverable.")
        return self.whole(outcome[0])

    def whole(self, outcome):
        if outcome == "throttled":
            return self._error(400, 130429, "Rate limit hit",
                               "Cloud API message throughput has been reached.")
        return self._error(503, 131016, "Service unavailable")

    def reports(self, callback, batch, config, clock):
        statuses = [{
            "id": r.provider_id, "status": "delivered" if r.delivered else "failed",
            "timestamp": str(int(clock.now())), "recipient_id": r.message.to.removeprefix("+"),
            **({"biz_opaque_callback_data": r.message.reference} if r.message.reference else {}),
            **({} if r.delivered else {"errors": [{
                "code": 131026, "title": "Message undeliverable", "message": r.reason,
                "error_data": {"details": r.reason}}]})} for r in batch]
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881",
                             "phone_number_id": batch[0].message.extra["phone_number_id"]},
                "statuses": statuses}}]}]}).encode()
        return [{"method": "POST", "url": callback, "data": body, "headers": {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": whatsapp_signature(config.app_secret, body)}}]


DIALECT_CLASSES = {"generic": GenericDialect, "twilio": TwilioDialect,
                   "africastalking": AfricasTalkingDialect, "infobip": InfobipDialect,
                   "kannel": KannelDialect, "whatsapp": WhatsAppDialect}


# -- the smpp dialect: an SMSC ----------------------------------------------------
# Built on smpp34's own SMSC side (smpp34.Server, not written here): it accepts every bind,
# answers each submit_sm with a message id or an error status, and sends the receipt as a
# deliver_sm on the same bind. SMPP carries no idempotency key: a repeat is a text (its parts
# put together) to a destination that was already accepted with that very text.

SMPP_RECEIPT_GAP_MS = 5.0  # smpp34 answers and pushes on different paths: a receipt sent with
                           # no gap may overtake its submit_sm_resp, which no real SMSC does
ESME_RSYSERR = 0x08


def udh_parts(data: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """A short_message with a User Data Header: ((reference, total, number) of a concatenated
    text, or None), and the text's bytes after the header."""
    length = data[0] if data else 0
    header, body = data[1:1 + length], data[1 + length:]
    at = 0
    while at + 2 <= len(header):
        kind, size = header[at], header[at + 1]
        value = header[at + 2:at + 2 + size]
        if kind == 0x00 and size == 3:
            return (value[0], value[1], value[2]), body
        if kind == 0x08 and size == 4:
            return (int.from_bytes(value[:2], "big"), value[2], value[3]), body
        at += 2 + size
    return None, body


def sms_text(data: bytes, data_coding: int) -> str:
    """The text of a short_message: UCS-2 for data_coding 8; else read as Latin-1 (exact for
    the GSM-7 characters ASCII shares, which is what the mock needs)."""
    return data.decode("utf-16-be", "replace") if data_coding == 8 else data.decode("latin-1")


def smpp34_errors(smpp34: Any) -> tuple[type[BaseException], ...]:
    """What smpp34 raises when the other side is gone."""
    return smpp34.SmppError, RuntimeError, OSError


class MockSmsc:
    """`mock-provider --dialect smpp`: an SMSC with the mock's latency, failures, --max-rps
    (ESME_RTHROTTLED), unroutable numbers (ESME_RINVDSTADR), delivery rate and receipt delay;
    its texts (put together from their parts) are kept in `texts` for tests."""

    def __init__(self, config: MockProviderConfig, stats: Counter):
        try:
            import smpp34
        except ImportError:
            raise ConfigError("--dialect smpp needs smpp34: pip install smpp34==1.5.0") from None
        self._smpp34, self._config, self.stats = smpp34, config, stats
        self._bucket = (float(config.max_rps), time.monotonic())
        self._sessions: dict[Any, Any] = {}
        self._parts: dict[tuple, dict[int, bytes]] = {}
        self._seen: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task] = set()
        # ids no earlier run of the mock gave (a real SMSC's restart repeats none either)
        self._ids = itertools.count(time.time_ns() // 1000)
        self.texts: list[tuple[str, str]] = []  # (destination, text) of each whole text taken
        self.stats.update(dict.fromkeys(("parts", "inbound_sent", "most_unanswered"), 0))
        self._unanswered = 0  # submit_sm taken, their answers waiting out --latency-ms

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        server = self._smpp34.Server(self._config.host, self._config.smpp_port,
                                     system_id="MockSMSC")
        await server.start()
        log.info("SMSC accepting binds on %s:%d", self._config.host, self._config.smpp_port)
        pump = asyncio.create_task(self._pump(server), name="mock-smsc")
        yield
        for task in (pump, *self._tasks):
            task.cancel()
        await asyncio.gather(pump, *self._tasks, return_exceptions=True)
        await server.stop()
        for esme in self._sessions.values():  # stopping the server leaves its binds open
            with contextlib.suppress(*smpp34_errors(self._smpp34), TimeoutError):
                await asyncio.wait_for(esme.unbind(), 0.1)  # sent at once; the answer: a courtesy

    async def _pump(self, server: Any) -> None:
        smpp34 = self._smpp34
        while True:
            event = await server.next()
            if isinstance(event, smpp34.SubmitSmEvent):
                self._take(event)
            elif isinstance(event, smpp34.Esme):
                self._sessions[event.session_id] = event
            elif isinstance(event, smpp34.Unbound):
                self._sessions.pop(event.session_id, None)

    def _take(self, event: Any) -> None:
        """One submit_sm: refused, or accepted (after --latency-ms) with a receipt to come."""
        self.stats["parts"] += 1
        data, concatenated = bytes(event.short_message), None
        if event.esm_class & 0x40:
            concatenated, data = udh_parts(data)
        first = concatenated is None or concatenated[2] == 1
        self.stats["received"] += first
        status = self._refusal(event, first)
        if status is not None:
            event.reject(status)
            return
        message_id = format(next(self._ids), "x")
        if self._config.latency_ms:
            self._unanswered += 1
            self.stats["most_unanswered"] = max(self.stats["most_unanswered"], self._unanswered)
            asyncio.get_running_loop().call_later(self._config.latency_ms / 1000, self._answer,
                                                  event, message_id)
        else:
            event.accept(message_id)
        whole = self._whole(event, concatenated, data)
        if whole is not None:
            self._accepted(event, whole)
        if event.registered_delivery & 1:
            which = concatenated[0] if concatenated else data.hex()  # a text's parts share it
            fate = random.Random(f"{self._config.seed}:{event.destination_addr}:{which}")
            delivered = fate.random() < self._config.delivery_rate
            self._later(self._receipt(event, message_id, delivered),  # after its answer
                        self._config.latency_ms
                        + max(self._config.receipt_delay_ms, SMPP_RECEIPT_GAP_MS))

    def _answer(self, event: Any, message_id: str) -> None:
        self._unanswered -= 1
        event.accept(message_id)

    def _refusal(self, event: Any, first: bool) -> int | None:
        if ("+" + event.destination_addr).startswith(UNROUTABLE_PREFIXES):
            return self._smpp34.ESME_RINVDSTADR
        if first and not self._within_rate():
            self.stats["throttled"] += 1
            return self._smpp34.ESME_RTHROTTLED
        if first and self._config.failure_rate and random.random() < self._config.failure_rate:
            self.stats["failed"] += 1
            return ESME_RSYSERR
        return None

    def _whole(self, event: Any, concatenated: tuple | None, data: bytes) -> str | None:
        """The whole text once its last part is in (at once for a text of one part)."""
        if concatenated is None:
            return sms_text(data, event.data_coding)
        key = (event.session_id, event.destination_addr, concatenated[0])
        parts = self._parts.setdefault(key, {})
        parts[concatenated[2]] = data
        if len(parts) < concatenated[1]:
            return None
        del self._parts[key]
        return sms_text(b"".join(parts[n] for n in sorted(parts)), event.data_coding)

    def _accepted(self, event: Any, text: str) -> None:
        key = (event.destination_addr, text)
        self.stats["duplicates"] += key in self._seen
        self._seen.add(key)
        self.stats["accepted"] += 1
        self.texts.append(key)

    def _within_rate(self) -> bool:
        if not self._config.max_rps:
            return True
        tokens, then = self._bucket
        now = time.monotonic()
        tokens = refill(tokens, then, self._config.max_rps, now)
        self._bucket = (max(0.0, tokens - 1), now)
        return tokens >= 1

    def _later(self, coro: Any, delay_ms: float) -> None:
        async def run() -> None:
            try:
                await asyncio.sleep(delay_ms / 1000)
                await coro
            finally:
                coro.close()  # cancelled before it started: not an "unawaited" warning

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _receipt(self, event: Any, message_id: str, delivered: bool) -> None:
        """A delivery receipt: deliver_sm, esm_class 0x04, the usual text and the
        receipted_message_id and message_state options (2 delivered, 5 undeliverable)."""
        smpp34, esme = self._smpp34, self._sessions.get(event.session_id)
        if esme is None:
            return
        stamp = time.strftime("%y%m%d%H%M", time.gmtime())
        stat, err = ("DELIVRD", "000") if delivered else ("UNDELIV", "001")
        text = (f"id:{message_id} sub:001 dlvrd:00{int(delivered)} submit date:{stamp} "
                f"done date:{stamp} stat:{stat} err:{err} text:").encode()
        try:
            await esme.deliver_sm(event.source_addr, text, source_addr=event.destination_addr,
                                  esm_class=0x04, tlvs=[
                                      smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID,
                                                 message_id.encode() + b"\0"),
                                      smpp34.Tlv(smpp34.TLV_MESSAGE_STATE,
                                                 bytes([2 if delivered else 5]))])
            self.stats["receipts_sent"] += 1
        except smpp34_errors(smpp34) as exc:  # the ESME went away; a real
            # SMSC would try again later
            log.warning("mock SMSC: receipt %s not delivered: %r", message_id, exc)

    async def send_inbound(self, phone: str, text: str, to: str = "SMSLeopard") -> bool:
        """A customer's text (deliver_sm, esm_class 0) to the first bound ESME; whether one
        took it."""
        for esme in list(self._sessions.values()):
            coding = 0 if text.isascii() else 8
            data = text.encode("latin-1" if coding == 0 else "utf-16-be")
            await esme.deliver_sm(to, data, source_addr=phone.lstrip("+"), source_addr_ton=1,
                                  source_addr_npi=1, data_coding=coding)
            self.stats["inbound_sent"] += 1
            return True
        return False

    async def answer_inbound(self, request: web.Request) -> web.Response:
        """POST /inbound {"from", "text"}: a customer's text sent to the bound ESME."""
        body = await request.json()
        sent = await self.send_inbound(str(body["from"]), str(body["text"]))
        return web.json_response({"sent": sent}, status=200 if sent else 409)


class MockProvider:
    """The provider side: what it takes, what it answers, what it counts."""

    def __init__(self, config: MockProviderConfig, rng: random.Random | None = None,
                 clock: Clock | None = None):
        self._config = config
        self._dialect = DIALECT_CLASSES.get(config.dialect, Dialect)()
        self._rng = rng or random.Random()
        self._clock = clock or Clock()  # stamps and signs receipts
        self._accepted: dict[str, tuple] = {}  # idempotency key -> the first outcome
        self._bucket = (float(config.max_rps), time.monotonic())  # (tokens, when)
        self._receipts: dict[str, list[Report]] = defaultdict(list)  # callback -> due
        self._receipts_due = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._sender: asyncio.Task | None = None
        self.stats = Counter(dict.fromkeys(
            ("received", "accepted", "throttled", "failed", "duplicates", "receipts_sent"), 0))
        self.requests = 0  # send requests taken (an Infobip request holds many messages)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        if self._config.dialect == "smpp":  # an SMSC; HTTP only for /stats and /inbound
            self.smsc = MockSmsc(self._config, self.stats)
            app.router.add_post("/inbound", self.smsc.answer_inbound)
            app.cleanup_ctx.append(self.smsc.context)
        else:
            app.router.add_route(self._dialect.method, self._dialect.path, self.take)
            app.cleanup_ctx.append(self._receipts_context)
        app.router.add_get("/stats", self.answer_stats)
        return app

    async def take(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            messages = await self._dialect.parse(request)
        except Refused as refused:
            self.stats["received"] += 1
            return refused.response
        self.stats["received"] += len(messages)
        if all(m.key in self._accepted for m in messages):  # taken before: the same answer
            self.stats["duplicates"] += len(messages)
            return self._dialect.answer([(m, self._accepted[m.key]) for m in messages])
        if not self._within_rate(len(messages)):
            self.stats["throttled"] += len(messages)
            return self._dialect.whole("throttled")
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)
        refused = {id(m): r for m in messages if (r := self._refusal(m))}
        if len(refused) < len(messages) and self._config.failure_rate and (
                self._rng.random() < self._config.failure_rate):
            self.stats["failed"] += len(messages)
            return self._dialect.whole("failed")
        return self._dialect.answer([(m, refused.get(id(m)) or self._outcome(m))
                                     for m in messages])

    @staticmethod
    def _refusal(message: Incoming) -> tuple | None:
        if message.to.startswith(UNROUTABLE_PREFIXES):
            return ("unroutable",)
        if message.to.startswith(OPTED_OUT_PREFIXES):
            return ("opted_out",)
        return None

    def _outcome(self, message: Incoming) -> tuple:
        if message.key is not None and (first := self._accepted.get(message.key)) is not None:
            self.stats["duplicates"] += 1  # accepted while this one waited, or in this request
            return first
        outcome = ("accepted", self._dialect.new_id(message))
        if message.key is not None:
            self._accepted[message.key] = outcome
        self.stats["accepted"] += 1
        callback = self._config.receipt_url or message.callback
        if callback:
            self._receipt_later(message, outcome[1], callback)
        return outcome

    def _within_rate(self, count: int) -> bool:
        """A token bucket of max_rps a second (one second's burst)."""
        if not self._config.max_rps:
            return True
        tokens, then = self._bucket
        now = time.monotonic()
        tokens = refill(tokens, then, self._config.max_rps, now)
        if tokens < count:
            self._bucket = (tokens, now)
            return False
        self._bucket = (tokens - count, now)
        return True

    async def answer_stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.stats))

    # -- receipts -----------------------------------------------------------

    def _receipt_later(self, message: Incoming, provider_id: str, callback: str) -> None:
        fate = random.Random(f"{self._config.seed}:{message.reference or message.key}")
        delivered = fate.random() < self._config.delivery_rate
        report = Report(message, provider_id, delivered,
                        "" if delivered else fate.choice(UNDELIVERED_REASONS))
        asyncio.get_running_loop().call_later(self._config.receipt_delay_ms / 1000,
                                              self._receipt_due, callback, report)

    def _receipt_due(self, callback: str, report: Report) -> None:
        self._receipts[callback].append(report)
        self._receipts_due.set()

    async def _receipts_context(self, app: web.Application) -> AsyncIterator[None]:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._sender = asyncio.create_task(self._send_receipts(), name="mock-provider-receipts")
        yield
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)
        await self._session.close()

    async def _send_receipts(self) -> None:
        while True:
            await self._receipts_due.wait()
            self._receipts_due.clear()
            for callback in list(self._receipts):
                while batch := self._receipts[callback][:RECEIPT_BATCH]:
                    del self._receipts[callback][:len(batch)]
                    requests = self._dialect.reports(callback, batch, self._config, self._clock)
                    sent = await asyncio.gather(*(self._post(r) for r in requests))
                    self.stats["receipts_sent"] += len(batch) * all(sent)

    async def _post(self, request: dict[str, Any]) -> bool:
        shown = str(request["url"]).split("?")[0]
        try:
            async with self._session.request(**request) as response:
                if response.status < 300:
                    return True
                log.warning("mock provider: %s answered %d to a report", shown, response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("mock provider: cannot post a report to %s: %r", shown, exc)
        return False


class _MockParser(_ArgumentParser):
    """Mistakes end in ConfigError with the usage line, not in a dump."""

    def error(self, message: str) -> Any:
        raise ConfigError(f"{message}\n{self.format_usage().strip()}")


RANGES = {"port": (0, 65535), "failure_rate": (0, 1), "delivery_rate": (0, 1),
          "smpp_port": (1, 65535)}


def mock_provider_main(argv: Sequence[str]) -> int:
    """`python smsleopard.py mock-provider [options]`: serve until SIGINT or SIGTERM."""
    parser = _MockParser(prog="smsleopard.py mock-provider",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         description="A mock SMS/WhatsApp gateway for demos, benchmarks and "
                                     "tests.")
    for setting in dataclasses.fields(MockProviderConfig):
        parser.add_argument(_flag(setting.name), type=type(setting.default),
                            default=setting.default, help=setting.metadata["help"],
                            choices=DIALECTS if setting.name == "dialect" else None)
    config = MockProviderConfig(**vars(parser.parse_args(list(argv))))
    if problem := config_problem(config):
        raise ConfigError(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return asyncio.run(_serve_mock_provider(config))


def config_problem(config: MockProviderConfig) -> str | None:
    """What is wrong with the settings, naming the range, or None."""
    for name, (low, high) in RANGES.items():
        if not low <= getattr(config, name) <= high:
            return f"{_flag(name)} is out of range: it must be between {low} and {high}"
    for name in ("latency_ms", "max_rps", "receipt_delay_ms"):
        if getattr(config, name) < 0:
            return f"{_flag(name)} is out of range: it must be 0 or more"
    if config.receipt_secret and (problem := secret_problem(config.receipt_secret)):
        return f"--receipt-secret {problem}"
    if config.dialect == "whatsapp" and config.receipt_url and not config.app_secret:
        return "--app-secret is needed to sign the whatsapp dialect's webhooks"
    return None


async def _serve_mock_provider(config: MockProviderConfig) -> int:
    sock = listen_socket(config.host, config.port)
    runner = web.AppRunner(MockProvider(config).app(), access_log=None)
    try:
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        log.info("listening on http://%s:%d", config.host, sock.getsockname()[1])
        tune_collector()  # as the service does: the mock keeps up with a thousand requests
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()
    return 0
