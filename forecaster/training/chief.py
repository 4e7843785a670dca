"""The distributed search's chief, which trusts no worker: a token when it listens beyond this machine,
reported trials checked against what it handed out, and trials of silent workers handed out again.

KerasTuner's own chief (keras_tuner.src.distribute.oracle_chief) accepts whatever any process that
reaches its port reports, and waits forever for a worker that took a trial and died.
"""

from __future__ import annotations

import contextlib
import hmac
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator

import grpc
import keras_tuner as kt
from google.protobuf.message import Message
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief
from keras_tuner.src.distribute.oracle_client import OracleClient
from keras_tuner.src.engine import metrics_tracking
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine.hyperparameters import HyperParameter
from keras_tuner.src.engine.oracle import synchronized

from forecaster.errors import SettingsError
from forecaster.kinds import Log
from forecaster.training.access import split_address

TOKEN_HEADER = "forecaster-token"
CHIEF_WAIT_SECONDS = 120
MAX_ID, MAX_MESSAGE = 100, 500  # characters of a tuner or trial id, and of a trial's failure message, taken
WORKER_TIMEOUT_SECONDS = 600.0  # a worker reports after every epoch; this long without a word and it is gone


class TokenCheck(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuse every call that does not carry the token (UNAUTHENTICATED)."""

    def __init__(self, token: str):
        self.token = token.encode()

        def refuse(request: Message, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "wrong or missing forecaster token")

        self.refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        given = dict(details.invocation_metadata or ()).get(TOKEN_HEADER, "")
        if hmac.compare_digest(str(given).encode(), self.token):
            return continuation(details)
        return self.refusal


class TokenSender(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Add the token to every call a worker makes."""

    def __init__(self, token: str):
        self.token = token

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Message], grpc.Call],
        details: grpc.ClientCallDetails,
        request: Message,
    ) -> grpc.Call:
        metadata = [*(details.metadata or ()), (TOKEN_HEADER, self.token)]
        return continuation(details._replace(metadata=metadata), request)


def authenticate(client: OracleClient, address: str, token: str | None) -> None:
    """Give a worker's KerasTuner OracleClient a channel that sends the token."""
    if token is None:
        return
    channel = grpc.intercept_channel(grpc.insecure_channel(address), TokenSender(token))
    client.stub = protos.get_service_grpc().OracleStub(channel)


def allowed(hp: HyperParameter, value: object) -> bool:
    if isinstance(hp, kt.engine.hyperparameters.Boolean):
        return value in (False, True)  # gRPC carries booleans as 0 and 1
    if hasattr(hp, "values"):
        return value in hp.values
    return bool(hp.min_value <= value <= hp.max_value)


class GuardedServicer(oracle_chief.OracleServicer):  # type: ignore[misc]
    """KerasTuner's servicer, checking what workers report: a trial ends FAILED, with the reason, when its
    values are not the ones handed out or not in the search space, or its scores are not finite and >= 0.
    It also notes when each worker last spoke (see `requeue_silent`)."""

    def __init__(self, oracle: kt.Oracle):
        super().__init__(oracle)
        self.heard_from: dict[str, float] = {}  # tuner id -> time of its last call
        self.rejected: dict[str, str] = {}  # trial id -> why its report will not be believed
        self.owners: dict[str, str] = {}  # trial id -> the connection (gRPC peer) it was handed out on
        self.lock = threading.Lock()

    def ongoing(self, trial_id: str, context: grpc.ServicerContext) -> trial_module.Trial:
        """The running trial `trial_id` (its worker is heard from now); a call about any other, or from
        another connection than the one the trial was handed out on, is refused."""
        trial_id = str(trial_id)[:MAX_ID]
        owner = self.owners.get(trial_id)
        if owner is not None and owner != context.peer():
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"trial {trial_id!r} was handed to another worker")
        for tuner_id, trial in list(self.oracle.ongoing_trials.items()):
            if trial.trial_id == trial_id:
                self.heard(tuner_id)
                return trial
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"trial {trial_id!r} is not running (timed out?)")

    def UpdateSpace(self, request: Message, context: grpc.ServicerContext) -> Message:
        """The search space is the chief's alone: a worker's (the same hypermodel's) adds nothing, and a
        client's additions (lookback 100000) are not taken."""
        return protos.get_service().UpdateSpaceResponse()

    def heard(self, tuner_id: str) -> None:
        with self.lock:
            self.heard_from[tuner_id] = time.time()

    def CreateTrial(self, request: Message, context: grpc.ServicerContext) -> Message:
        tuner_id = request.tuner_id
        if not tuner_id or len(tuner_id) > MAX_ID or not tuner_id.isprintable():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"a tuner id is 1 to {MAX_ID} printable characters")
        self.heard(tuner_id)
        response = super().CreateTrial(request, context)
        if response.trial.trial_id:
            self.owners[response.trial.trial_id] = context.peer()
        return response

    def UpdateTrial(self, request: Message, context: grpc.ServicerContext) -> Message:
        self.ongoing(request.trial_id, context)
        bad = {name: value for name, value in request.metrics.items() if not (math.isfinite(value) and value >= 0)}
        if bad and request.trial_id not in self.rejected:
            name, value = next(iter(bad.items()))
            self.rejected[request.trial_id] = f"rejected by the chief: {name} {value} is not a finite score >= 0"
        return super().UpdateTrial(request, context)

    def EndTrial(self, request: Message, context: grpc.ServicerContext) -> Message:
        handed_out = self.ongoing(request.trial.trial_id, context)
        trial = trial_module.Trial.from_proto(request.trial)
        trial.message = None if trial.message is None else str(trial.message)[:MAX_MESSAGE]
        reason = self.rejected.pop(trial.trial_id, None) or self.check_values(trial, handed_out)
        if reason and trial.status == trial_module.TrialStatus.COMPLETED:
            trial.status, trial.message = trial_module.TrialStatus.FAILED, reason
            trial.hyperparameters = handed_out.hyperparameters  # the record keeps what was asked, not what was said
        self.oracle.end_trial(trial)
        return protos.get_service().EndTrialResponse()

    def check_values(self, trial: trial_module.Trial, handed_out: trial_module.Trial) -> str | None:
        space = {hp.name: hp for hp in self.oracle.hyperparameters.space}
        for name, value in trial.hyperparameters.values.items():
            if name not in space or not allowed(space[name], value):
                return f"rejected by the chief: {name}={value!r} is outside the search space"
            if handed_out.hyperparameters.values.get(name) != value:
                return f"rejected by the chief: {name}={value!r} is not the value the trial was given"
        return None


@synchronized
def requeue_silent(oracle: kt.Oracle, servicer: GuardedServicer, timeout: float, log: Log) -> None:
    """Forget each worker silent for `timeout` seconds (else the chief would wait for it forever) and hand
    out its trial again."""
    now = time.time()
    with servicer.lock:
        silent = {tuner_id for tuner_id, heard in servicer.heard_from.items() if now - heard >= timeout}
    for tuner_id in silent & set(oracle.tuner_ids):
        oracle.tuner_ids.discard(tuner_id)
        trial = oracle.ongoing_trials.pop(tuner_id, None)
        if trial is None:
            continue
        trial.metrics = metrics_tracking.MetricsTracker()  # forget the silent worker's partial epochs
        servicer.rejected.pop(trial.trial_id, None)
        oracle._retry_queue.append(trial.trial_id)
        log(f"chief: worker {tuner_id} silent for {timeout:g} s; trial {int(trial.trial_id) + 1} is handed out again")


def serve_oracle(
    oracle: kt.Oracle, log: Log, describe: Callable[[trial_module.Trial], str], token: str | None, worker_timeout: float
) -> None:
    """The chief: serve the oracle over gRPC until the budget is spent and every worker has left.

    KerasTuner's own server loop polls every 20 s once the search is over; this one every 0.2 s,
    and it prints each trial as a worker finishes it.
    """
    from concurrent import futures

    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    interceptors = [TokenCheck(token)] if token else []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), interceptors=interceptors)
    servicer = GuardedServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if not server.add_insecure_port(address):
        raise SettingsError(f"--chief {address}: cannot listen there (in use, or not this machine's address)")
    server.start()
    who = "workers must give the same token" if token else "no token: only this machine can reach it"
    log(f"chief: oracle listening on {address} ({who}); a worker silent for {worker_timeout:g} s loses its trial")
    reported = len(oracle.end_order)
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(oracle)):
            time.sleep(0.2)
            requeue_silent(oracle, servicer, worker_timeout, log)
            for trial_id in oracle.end_order[reported:]:
                log(describe(oracle.trials[trial_id]))
            reported = len(oracle.end_order)
    finally:
        server.stop(grace=1)


def wait_for_chief(address: str, log: Log, timeout: float = CHIEF_WAIT_SECONDS) -> None:
    """Block until the chief's gRPC port answers, or fail with a message (KerasTuner would hang)."""
    log(f"worker: waiting for the chief at {address}")
    channel = grpc.insecure_channel(address)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise SettingsError(
            f"--worker {address}: no chief answered in {timeout:.0f} s; "
            f"start `forecaster tune ... --chief {address}` first"
        ) from None
    finally:
        channel.close()


@contextlib.contextmanager
def distributed(chief: str | None, worker: str | None, worker_id: str | None) -> Iterator[str | None]:
    """Set KerasTuner's three variables for `--chief HOST:PORT` or `--worker HOST:PORT`; yields the tuner id."""
    names = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
    saved = {name: os.environ.get(name) for name in names}
    address = chief or worker
    tuner_id = None
    if address:
        host, port = split_address("chief" if chief else "worker", address)
        tuner_id = "chief" if chief else (worker_id or f"worker-{os.getpid()}-{secrets.token_hex(2)}")
        if worker and "chief" in tuner_id:
            raise SettingsError(
                f"--worker-id {tuner_id!r}: must not contain 'chief' (KerasTuner reads that as the chief)"
            )
        os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=port)
    try:
        yield tuner_id
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
