"""A stand-in for DeerAPI's Replicate-style predictions API, over real HTTP.

`make run` uses it when no DEERAPI_KEY is set, and tests reach it over loopback
through the real `requests` client. It is plain Python (standard library and
Pillow): importing it needs no Django settings.

A prediction's status is a function of the clock (monotonic): `starting` for
`starting_seconds`, `processing` for `processing_seconds`, then terminal. Nothing
runs in the background; every request reads the clock. Output files are rendered
when downloaded.

Faults are queued per route with `Simulator.inject` (or `POST /_simulator/faults`)
and each one is used up by the next request to that route. Two of them act as a
careless gateway would with the key it received: `echo_key` puts it in the error's
message ("Incorrect API key provided: …"), and `dead_redirect` sends the client,
path and query (so `?key=`) included, to an address where nothing listens, so the
client's connection error names the URL. A `delay` holds the request unanswered for
that long; `Simulator.held` (or `GET /_simulator/held`) lists the requests held at the
moment with the client's address, so a test can stop the process that waits for one.

Faults can also be met at random (`fault_rates`, `Simulator.fault_rate` or
`POST /_simulator/fault_rates`): a 5xx answer, an answer later than `timeout_seconds`,
or a connection closed without an answer, each at its own rate per route, for soaks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from catalog.inputs import ModelSpec
from catalog.specs import MODELS, get_model
from deerapi.simulator.http import SimulatorHTTPServer
from deerapi.simulator.images import (
    OUTPUT_SIZES,
    content_type,
    full_size,
    image_size,
    output_extension,
    render,
    render_full,
)
from deerapi.simulator.replies import (
    JSON,
    MALFORMED_BODY,
    PROBLEM_JSON,
    Fault,
    FaultRates,
    Reply,
    bad_request,
    dead_address,
    file_not_found,
    not_found,
    unauthorized,
)
from deerapi.simulator.state import TERMINAL, FetchedInput, HeldRequest, SimulatedPrediction, Stats, steps_for
from deerapi.simulator.validation import InvalidField, problem_body, validate_input
from deerapi.simulator.webhooks import WEBHOOK_MODES, WebhookSender

logger = logging.getLogger(__name__)

ROUTES = ("create", "get", "cancel", "file", "models", "quota")
FAIL_MARK = "[[fail]]"
SLOW_MARK = "[[slow]]"
# A prompt with this mark gets one image fewer than it asked for (as when a safety checker drops one).
UNSAFE_MARK = "[[unsafe]]"
# What the simulated DeerAPI account holds before any prediction (USD), for GET /user/quota.
STARTING_BALANCE = Decimal("100")
SLOW_FACTOR = 10
SIMULATED_FAILURE = "Simulated model failure: the model could not generate this image."
ID_ALPHABET = string.ascii_lowercase + string.digits

_CREATE = re.compile(r"^/replicate/v1/models/(?P<model>.+)/predictions$")
_GET = re.compile(r"^/replicate/v1/predictions/(?P<id>[^/]+)$")
_CANCEL = re.compile(r"^/replicate/v1/predictions/(?P<id>[^/]+)/cancel$")
_FILE = re.compile(r"^/files/(?P<id>[^/]+)/out-(?P<index>\d+)\.(?P<ext>[a-z]+)$")
_CONTROL_PREDICTION = re.compile(r"^/_simulator/predictions/(?P<id>[^/]+)$")


def _new_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(26))


# --- Replies --------------------------------------------------------------------------------


def _bearer(headers: Any) -> str:
    """The token of the request's `Authorization: Bearer …` header ("" without one)."""
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _query_key(raw_path: str) -> str:
    """The `?key=` of a request (the balance endpoint's way of taking the key)."""
    return (parse_qs(urlsplit(raw_path).query).get("key") or [""])[0]


# --- The server -----------------------------------------------------------------------------

LOG_MODES = ("progress", "plain")


class Simulator:
    """DeerAPI over HTTP on `host:port` (port 0 picks a free one).

    Use `start()`/`stop()` or `with Simulator() as sim:` to serve from a daemon
    thread, or `serve_forever()` to serve in the calling thread.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str = "sandbox-key",  # noqa: S107 - the sandbox key, not a secret
        starting_seconds: float = 0.5,
        processing_seconds: float = 1.0,
        file_ttl: float = 3600.0,
        *,
        verbose: bool = False,
        public_url: str | None = None,
        logs: str = "progress",
        fetch_inputs: bool = False,
        fault_rates: dict[str, dict[str, float]] | None = None,
        fault_seed: int | None = None,
        timeout_seconds: float = 35.0,
        output_size: str = "small",
        webhooks: str = "ignored",
    ) -> None:
        if logs not in LOG_MODES:
            raise ValueError(f"logs must be one of {', '.join(LOG_MODES)}")
        if webhooks not in WEBHOOK_MODES:
            raise ValueError(f"webhooks must be one of {', '.join(WEBHOOK_MODES)}")
        if output_size not in OUTPUT_SIZES:
            raise ValueError(f"output_size must be one of {', '.join(OUTPUT_SIZES)}")
        self.key = key
        # DeerAPI relays many vendors' models: whether their logs carry progress bars is not
        # known. "progress": a tqdm line per denoising step, as Replicate's image models print;
        # "plain": the seed and the end, no bar. Set it at any time; creates after take it.
        self.logs = self._logs_made_with = logs
        # Read each input file given by an http(s) URL when a prediction is created, as DeerAPI
        # does (and fail the prediction when one cannot be read); `fetched_inputs` keeps the reads.
        self.fetch_inputs = self._fetch_inputs_made_with = fetch_inputs
        # "small": images 256 px on the long side, cheap for tests; "full": the size the input asks
        # for (1 MP by default, up to 2048×2048) and as heavy as a real picture, for benchmarks.
        self.output_size = output_size
        # A create's `webhook`: "ignored", or "sent" (POSTed the prediction when it ends; see
        # deerapi.simulator.webhooks). Set it at any time; creates after take it.
        self.webhooks = self._webhooks_made_with = webhooks
        self._webhook_sender = WebhookSender(self._webhook_document, self._webhook_sent)
        self._fetched: list[FetchedInput] = []
        self._held: list[HeldRequest] = []
        self.starting_seconds = float(starting_seconds)
        self.processing_seconds = float(processing_seconds)
        self.file_ttl = float(file_ttl)
        self.verbose = verbose
        self._public_url = public_url.rstrip("/") if public_url else None
        self._lock = threading.Lock()
        self._predictions: dict[str, SimulatedPrediction] = {}
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._fail_next: deque[str] = deque()
        # Random faults: `fault_rates` is {route: {kind: rate}}; `timeout_seconds` is how late a
        # "timeout" answers (more than the client waits). Reset returns to these.
        self._fault_rates_made_with = (fault_rates or {}, fault_seed, timeout_seconds)
        self._rates = self._new_fault_rates()
        self._stats = Stats()
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False
        self._httpd = SimulatorHTTPServer((host, port), self)
        bound_host, bound_port = self._httpd.server_address[:2]
        # A TCP socket names its host as text (the stubs also allow the bytes bind() accepts).
        assert isinstance(bound_host, str)
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host  # noqa: S104
        self.host = bound_host
        self.port = bound_port
        self.url = f"http://{shown}:{bound_port}"

    # --- Lifecycle

    def start(self) -> Simulator:
        """Serve from a daemon thread; returns self."""
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"deerapi-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` (from another thread) or Ctrl-C."""
        self._serving = True
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        """Stop serving, hang up open connections and free the port. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._webhook_sender.stop()
        if self._serving:
            self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Simulator({self.url!r})"

    # --- In-process control

    @property
    def stats(self) -> Stats:
        return self._stats

    @property
    def predictions(self) -> dict[str, SimulatedPrediction]:
        """A copy of id → prediction, for reading."""
        with self._lock:
            return dict(self._predictions)

    @property
    def fetched_inputs(self) -> list[FetchedInput]:
        """A copy: the input files read from their URLs (with `fetch_inputs`), oldest first."""
        with self._lock:
            return list(self._fetched)

    @property
    def held(self) -> list[HeldRequest]:
        """The requests a delay fault holds at this moment, oldest first."""
        with self._lock:
            return list(self._held)

    def inject(
        self,
        route: str,
        *,
        status: int | None = None,
        count: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
        drop: bool = False,
        delay: float = 0.0,
        malformed: bool = False,
        content_type: str | None = None,
        oversize: int | None = None,
        echo_key: bool = False,
        dead_redirect: bool = False,
    ) -> None:
        """Give the next `count` requests to `route` this fault (faults queue in order).

        `echo_key`: an error (401 unless `status` says otherwise) whose message repeats the
        key the request carried. `dead_redirect`: a 307 to the same path and query at an
        address where nothing listens.
        """
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a whole number of at least 1")
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("status must be an HTTP status code")
        if (content_type is not None or oversize is not None) and route != "file":
            raise ValueError("content_type and oversize apply to the file route only")
        if oversize is not None and (not isinstance(oversize, int) or oversize < 1):
            raise ValueError("oversize must be a positive number of bytes")
        if not isinstance(delay, int | float) or delay < 0:
            raise ValueError("delay must be a number of seconds")
        if echo_key and body is not None:
            raise ValueError("echo_key writes its own body")
        fault = Fault(
            route=route,
            status=status,
            count=count,
            retry_after=retry_after,
            body=body,
            drop=bool(drop),
            delay=float(delay),
            malformed=bool(malformed),
            content_type=content_type,
            oversize=oversize,
            echo_key=bool(echo_key),
            dead_redirect=bool(dead_redirect),
        )
        with self._lock:
            self._faults[route].append(fault)

    def fault_rate(self, route: str, kind: str, rate: float) -> None:
        """From now on, each request to `route` meets a `kind` fault ("error": a 5xx answer,
        "timeout": an answer after `timeout_seconds`, "drop": the connection closed without an
        answer) with probability `rate`. A dropped or late create still starts its prediction."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
        self._rates.set(route, kind, rate)

    @property
    def fault_rates(self) -> dict[str, dict[str, float]]:
        return self._rates.as_dict()

    def _new_fault_rates(self) -> FaultRates:
        rates, seed, timeout_seconds = self._fault_rates_made_with
        made = FaultRates(seed=seed, timeout_seconds=timeout_seconds)
        for route, kinds in rates.items():
            if route not in ROUTES:
                raise ValueError(f"unknown route {route!r}; expected one of {', '.join(ROUTES)}")
            for kind, rate in kinds.items():
                made.set(route, kind, rate)
        return made

    def pending_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_dict() for queue in self._faults.values() for fault in queue]

    def fail_next(self, count: int = 1, error: str = SIMULATED_FAILURE) -> None:
        """The next `count` created predictions end `failed` with `error`."""
        if not isinstance(count, int) or count < 1:
            raise ValueError("count must be a whole number of at least 1")
        with self._lock:
            self._fail_next.extend([str(error)] * count)

    def expire_files(self) -> int:
        """Expire the files of every prediction that has ended; returns how many."""
        now = time.monotonic()
        expired = 0
        with self._lock:
            for prediction in self._predictions.values():
                if prediction.ended_mono(now) is not None and not prediction.expired:
                    prediction.expired = True
                    expired += 1
        return expired

    def completed_at(self, prediction_id: str) -> float | None:
        """Wall-clock time (Unix seconds, like `time.time()`) at which the prediction
        ended (succeeded, failed or was canceled); None while it runs.

        Raises KeyError for an unknown id.
        """
        now = time.monotonic()
        with self._lock:
            prediction = self._predictions[prediction_id]
            ended = prediction.ended_mono(now)
            return None if ended is None else prediction.wall(ended)

    def reset(self) -> None:
        """Forget every prediction, pending fault, input read and counter; logs, input reading and
        random fault rates (their draws started again from the seed) as the simulator was made."""
        with self._lock:
            self._predictions.clear()
            for queue in self._faults.values():
                queue.clear()
            self._fail_next.clear()
            self.logs = self._logs_made_with
            self.fetch_inputs = self._fetch_inputs_made_with
            self.webhooks = self._webhooks_made_with
            self._fetched.clear()
            self._rates = self._new_fault_rates()
        self._webhook_sender.forget()
        self._stats.clear()

    # --- HTTP

    def _authorized(self, headers: Any) -> bool:
        return secrets.compare_digest(_bearer(headers).encode(), self.key.encode())

    def _base_url(self, headers: Any) -> str:
        if self._public_url:
            return self._public_url
        host = headers.get("Host")
        return f"http://{host}" if host else self.url

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults[route]
            if not queue:
                return None
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
        self._stats.add("faults")
        return fault

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, client: tuple[str, int] = ("", 0)) -> Reply:
        """Answer one request from `client` (address, port). Called from the handler threads,
        without the lock held."""
        path = unquote(urlsplit(raw_path).path)
        if path.startswith("/_simulator/"):
            if not self._authorized(headers):
                return unauthorized()
            return self._control(method, path, body)

        self._stats.add("requests")
        route, params = self._route(method, path)
        if route is None:
            return not_found(f"Invalid URL ({method} {path})", code="invalid_url")
        if route == "quota":
            # The balance endpoint takes the key as `?key=`, not as a Bearer token.
            if not secrets.compare_digest(_query_key(raw_path).encode(), self.key.encode()):
                return unauthorized()
        elif route != "file" and not self._authorized(headers):
            return unauthorized()

        def answer() -> Reply:
            return self._answer(route, params, headers, body)

        fault = self._take_fault(route)
        if fault is None and (drawn := self._rates.draw(route)) is not None:
            kind, fault = drawn
            self._stats.add("faults")
            self._stats.add_injected(f"{route}:{kind}")
        if fault is None:
            return answer()
        # A create that is dropped, delayed or garbled still reaches "DeerAPI" and
        # starts a prediction: that is the case the client must treat as uncertain.
        processed = None
        if route == "create" and not fault.refuses:
            processed = answer()
        if fault.delay:
            self._hold(HeldRequest(route, path, client), fault.delay)
        if fault.drop:
            return Reply(0, drop=True)
        if fault.dead_redirect:
            return Reply(307, headers=(("Location", dead_address() + raw_path),))
        if fault.refuses and not fault.dead_redirect:
            return fault.reply(_query_key(raw_path) if route == "quota" else _bearer(headers))
        if fault.malformed:
            return Reply(200, MALFORMED_BODY, JSON)
        if fault.content_type:
            page = b"<!doctype html><html><body><h1>Simulated page</h1></body></html>"
            return Reply(200, page, fault.content_type)
        if fault.oversize:
            return Reply(200, content_type="image/png", junk_size=fault.oversize)
        return processed if processed is not None else answer()

    def _hold(self, request: HeldRequest, seconds: float) -> None:
        with self._lock:
            self._held.append(request)
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self._held.remove(request)

    def _route(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        if method == "POST":
            if match := _CREATE.match(path):
                self._stats.add("create_requests")
                return "create", match.groupdict()
            if match := _CANCEL.match(path):
                self._stats.add("cancels")
                return "cancel", match.groupdict()
        elif method == "GET":
            if match := _GET.match(path):
                self._stats.add_get(match.group("id"))
                return "get", match.groupdict()
            if match := _FILE.match(path):
                self._stats.add("file_downloads")
                return "file", match.groupdict()
            if path.rstrip("/") == "/user/quota":
                return "quota", {}
            if path.rstrip("/") == "/v1/models":
                self._stats.add("model_lists")
                return "models", {}
        return None, {}

    def _answer(self, route: str, params: dict[str, str], headers: Any, body: bytes) -> Reply:
        if route == "create":
            return self._create(params["model"], body, headers)
        if route == "get":
            return self._get(params["id"], headers)
        if route == "cancel":
            return self._cancel(params["id"], headers)
        if route == "file":
            return self._file(params["id"], int(params["index"]), params["ext"])
        if route == "quota":
            return self._quota()
        return self._models()

    def _create(self, model_id: str, body: bytes, headers: Any) -> Reply:
        spec = get_model(model_id)
        if spec is None:
            return not_found(f"model {model_id} not found (模型 {model_id} 不存在)", code="model_not_found")
        try:
            payload = json.loads(body)
        except ValueError:
            return bad_request("the request body is not valid JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("input"), dict):
            return bad_request("the request body must be a JSON object with an `input` object")
        data = payload["input"]
        problems = validate_input(spec, data)
        webhook = payload.get("webhook")
        if webhook is not None and not (isinstance(webhook, str) and webhook.startswith(("https://", "http://"))):
            problems.append(InvalidField("format", "webhook", "must be an http(s) URL"))
        if problems:
            return Reply.json(422, problem_body(problems), content_type=PROBLEM_JSON)

        defaults = {item.name: item.default for item in spec.fields}
        seed = data.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            seed = random.randrange(2**31)
        count = 1
        if spec.output == "list" and spec.field("num_outputs"):
            count = data.get("num_outputs", defaults["num_outputs"]) or 1
        quality = data.get("output_quality", defaults.get("output_quality"))
        full = self.output_size == "full"
        width, height = (full_size if full else image_size)({**defaults, **data})
        prompt = data.get("prompt") if isinstance(data.get("prompt"), str) else ""
        processing = self.processing_seconds * (SLOW_FACTOR if SLOW_MARK in prompt else 1)
        if UNSAFE_MARK in prompt:
            count = max(1, int(count) - 1)
        error = SIMULATED_FAILURE if FAIL_MARK in prompt else None
        if self.fetch_inputs:
            error = self._fetch_inputs(spec, data) or error
        with self._lock:
            if self._fail_next:
                error = self._fail_next.popleft()
            prediction_id = _new_id()
            while prediction_id in self._predictions:
                prediction_id = _new_id()
            prediction = SimulatedPrediction(
                id=prediction_id,
                model=spec.id,
                input=data,
                output_shape=spec.output,
                seed=seed,
                output_count=int(count),
                extension=output_extension(spec, data),
                width=width,
                height=height,
                quality=quality if isinstance(quality, int) else 80,
                steps=steps_for(defaults, data),
                created_wall=time.time(),
                created_mono=time.monotonic(),
                starting_seconds=self.starting_seconds,
                processing_seconds=processing,
                file_ttl=self.file_ttl,
                error=error,
                progress_bars=self.logs == "progress",
                full_size=full,
                webhook=webhook if self.webhooks == "sent" else None,
            )
            self._predictions[prediction_id] = prediction
            if prediction.webhook:
                self._webhook_sender.schedule(prediction.finished_mono, prediction_id, prediction.webhook)
            document = prediction.to_json(prediction.created_mono, self._base_url(headers))
        self._stats.add("creates")
        return Reply.json(201, document)

    def _fetch_inputs(self, spec: ModelSpec, data: dict[str, Any]) -> str | None:
        """Read every input file `data` gives by an http(s) URL; the prediction's error if one fails."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for field in spec.fields:
            if field.kind not in ("uri", "uri_list"):
                continue
            value = data.get(field.name)
            for url in value if isinstance(value, list) else [value]:
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    continue
                try:
                    with opener.open(url, timeout=10) as answer:
                        body = answer.read()
                        fetched = FetchedInput(
                            url, answer.status, answer.headers.get_content_type(), hashlib.sha256(body).hexdigest()
                        )
                except urllib.error.HTTPError as exc:
                    fetched = FetchedInput(url, exc.code)
                except OSError:
                    fetched = FetchedInput(url, 0)
                with self._lock:
                    self._fetched.append(fetched)
                if fetched.status != 200:
                    return f"could not read {field.name} from {url} (HTTP {fetched.status or 'no answer'})"
        return None

    def _get(self, prediction_id: str, headers: Any) -> Reply:
        now = time.monotonic()
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is not None:
                document = prediction.to_json(now, self._base_url(headers))
        if prediction is None:
            return not_found(f"prediction {prediction_id} not found", code="prediction_not_found")
        return Reply.json(200, document)

    def _cancel(self, prediction_id: str, headers: Any) -> Reply:
        now = time.monotonic()
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is not None:
                if prediction.status_at(now) not in TERMINAL:
                    prediction.canceled_mono = now
                    if prediction.webhook:
                        self._webhook_sender.schedule(now, prediction_id, prediction.webhook)
                document = prediction.to_json(now, self._base_url(headers))
        if prediction is None:
            return not_found(f"prediction {prediction_id} not found", code="prediction_not_found")
        return Reply.json(200, document)

    def _file(self, prediction_id: str, index: int, extension: str) -> Reply:
        now = time.monotonic()
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if (
                prediction is None
                or prediction.status_at(now) != "succeeded"
                or prediction.data_removed_at(now)
                or index >= prediction.output_count
                or extension != prediction.extension
            ):
                return file_not_found()
        # Rendered outside the lock: other requests never wait for Pillow.
        if prediction.full_size:
            tag = f"{prediction.id}/{index}"
            data = render_full(prediction.extension, prediction.width, prediction.height, prediction.quality, tag)
            return Reply(200, data, content_type(prediction.extension))
        data = render(
            prediction.extension,
            prediction.seed,
            prediction.prompt,
            index,
            prediction.width,
            prediction.height,
            prediction.quality,
        )
        return Reply(200, data, content_type(prediction.extension))

    def _quota(self) -> Reply:
        """GET /user/quota: the account's balance, spent at the catalog price per image of every
        succeeded prediction."""
        now = time.monotonic()
        with self._lock:
            done = [(p.model, p.output_count) for p in self._predictions.values() if p.status_at(now) == "succeeded"]
        used = sum((spec.price * count for model, count in done if (spec := get_model(model))), Decimal(0))
        left = STARTING_BALANCE - used
        return Reply.json(
            200,
            {
                "username": "sandbox",
                "total_quota": float(left),
                "total_used_quota": float(used),
                "request_count": self._stats.create_requests,
                "keys": [{"name": "deerweb", "remain_quota": float(left), "used_quota": float(used)}],
            },
        )

    def _models(self) -> Reply:
        created = int(time.time())
        data = [
            {"id": spec.id, "object": "model", "created": created, "owned_by": spec.vendor} for spec in MODELS.values()
        ]
        return Reply.json(200, {"object": "list", "data": data, "success": True})

    # --- Webhooks ("sent" mode)

    def _webhook_document(self, prediction_id: str) -> dict[str, Any] | None:
        """The body of a prediction's one webhook, when it has ended and none was sent yet."""
        now = time.monotonic()
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is None or prediction.webhook_sent or prediction.status_at(now) not in TERMINAL:
                return None
            prediction.webhook_sent = True
            return prediction.to_json(now, self._public_url or self.url)

    def _webhook_sent(self, ok: bool) -> None:
        self._stats.add("webhooks_sent" if ok else "webhooks_failed")

    # --- Control over HTTP

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if method == "GET" and path == "/_simulator/stats":
            return Reply.json(200, self._stats.as_dict())
        if method == "GET" and path == "/_simulator/held":
            return Reply.json(200, {"held": [request.as_dict() for request in self.held]})
        if method == "GET" and path == "/_simulator/predictions":
            # Every prediction created, with its prompt: who asks can tell how often each was sent.
            now = time.monotonic()
            with self._lock:
                listed = [
                    {"id": p.id, "prompt": p.prompt, "status": p.status_at(now)} for p in self._predictions.values()
                ]
            return Reply.json(200, listed)
        if method == "GET" and (match := _CONTROL_PREDICTION.match(path)):
            now = time.monotonic()
            with self._lock:
                prediction = self._predictions.get(match.group("id"))
                if prediction is not None:
                    ended = prediction.ended_mono(now)
                    summary = {
                        "id": prediction.id,
                        "status": prediction.status_at(now),
                        "completed_at": None if ended is None else prediction.wall(ended),
                    }
            if prediction is None:
                return not_found("prediction not found", code="prediction_not_found")
            return Reply.json(200, summary)
        if method != "POST":
            return not_found(f"Invalid URL ({method} {path})", code="invalid_url")
        try:
            options = json.loads(body) if body.strip() else {}
        except ValueError:
            return bad_request("the request body is not valid JSON")
        if not isinstance(options, dict):
            return bad_request("the request body must be a JSON object")
        try:
            if path == "/_simulator/faults":
                route = options.pop("route", None)
                self.inject(route, **options)
                return Reply.json(200, {"ok": True, "pending": self.pending_faults()})
            if path == "/_simulator/fault_rates":
                self.fault_rate(**options)
                return Reply.json(200, {"ok": True, "fault_rates": self.fault_rates})
            if path == "/_simulator/fail_next":
                self.fail_next(**options)
                return Reply.json(200, {"ok": True})
            if path == "/_simulator/expire":
                return Reply.json(200, {"ok": True, "expired": self.expire_files()})
            if path == "/_simulator/reset":
                self.reset()
                return Reply.json(200, {"ok": True})
        except (TypeError, ValueError) as exc:
            return bad_request(str(exc))
        return not_found(f"Invalid URL ({method} {path})", code="invalid_url")
