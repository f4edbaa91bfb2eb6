"""The one rule for every time bound on a request's way: route, proxy, autoscaler, drain and grace period.

A leaf sets one number, `ingress.timeoutSeconds` (T, platform default 600): the longest an answer may take
once a replica has the request. Everything else follows from it:

* an autoscaled leaf's requests pass the KEDA HTTP add-on's interceptor, which holds a request until a
  replica is ready (`conditionWait`, W: the first rollout's budget, a pull and a load, since a replica
  started from zero may have to pull its models) and then waits at most T for the answer's headers
  (`responseHeader`: a non-streamed answer sends its headers when it is done). The interceptor's own
  defaults are no bound for us: no readiness limit, and 300 s for headers (http-add-on v0.15.0
  interceptor/config/timeouts.go), which would cut a long non-streamed answer;
* the route and the auth proxy bound the whole request: W + T (T alone when not autoscaled). The route's
  `request` and `backendRequest` timeouts are for the whole answer (Gateway API HTTPRouteTimeouts); nginx's
  `proxy_read_timeout` and `proxy_send_timeout` are between two reads or writes, so W + T also covers the
  first byte of an answer the interceptor held;
* a stopping pod drains for D, `container.drainSeconds`, default T: an answer already streaming from the pod
  needs at most T more. Its `terminationGracePeriodSeconds` is the endpoint-removal pause, D and a stop
  margin (:func:`ollama_constructs._drain.termination_grace_seconds`), the auth proxy's likewise.

Not ours to set, and documented in the README: the interceptor's own drain (`KEDA_HTTP_DRAIN_TIMEOUT`, 30 s:
streams through an interceptor pod being replaced are cut then) and its idle connections to the pods (Go's
90 s default), which a draining pod's preStop waits for; Gateway implementations that ignore HTTPRoute
`timeouts` (:data:`ollama_constructs.catalog.platform.GATEWAY_IMPLEMENTATIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._drain import ENDPOINT_REMOVAL_SECONDS, termination_grace_seconds
from .leaf import CatalogLeaf
from .sizing import SizingPlan

DEFAULT_ANSWER_SECONDS = 600
"""T when neither the leaf nor the platform sets `ingress.timeoutSeconds`."""


@dataclass(frozen=True, slots=True)
class RequestTimeouts:
    """Every time bound of one leaf's requests, from :func:`leaf_timeouts`."""

    answer_seconds: int
    """T: the longest an answer may take once a replica has the request (`ingress.timeoutSeconds`)."""
    cold_start_seconds: int
    """W: how long the autoscaler's interceptor holds a request for a ready replica; 0 when not autoscaled."""
    drain_seconds: int
    """D: how long a stopping pod serves the answers in flight (`container.drainSeconds`, default T)."""

    @property
    def request_seconds(self) -> int:
        """W + T: the route's `request` and `backendRequest` timeouts and the auth proxy's upstream timeouts."""
        return self.cold_start_seconds + self.answer_seconds

    @property
    def response_header_seconds(self) -> int:
        """The interceptor's `responseHeader` timeout: T (a non-streamed answer's headers come at its end)."""
        return self.answer_seconds

    @property
    def grace_seconds(self) -> int:
        """`terminationGracePeriodSeconds` of the server and the auth proxy: the pause, D and the margin."""
        return termination_grace_seconds(self.drain_seconds, ENDPOINT_REMOVAL_SECONDS)


def leaf_timeouts(leaf: CatalogLeaf, sizing: SizingPlan) -> RequestTimeouts:
    """The time bounds of `leaf` (with its platform defaults applied); `sizing` gives the cold start (the
    first rollout's budget, :attr:`SizingPlan.progress_deadline_seconds`)."""
    answer = leaf.ingress.timeout_seconds or DEFAULT_ANSWER_SECONDS
    cold_start = sizing.progress_deadline_seconds if leaf.autoscaling.enabled else 0
    drain = leaf.container.drain_seconds if leaf.container.drain_seconds is not None else answer
    return RequestTimeouts(answer, cold_start, drain)
