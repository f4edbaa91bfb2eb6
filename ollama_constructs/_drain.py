"""How a stopping pod lets the answers in flight finish: the one rule for grace periods and drain bounds.

Ollama closes every open connection the moment it gets SIGTERM (server/routes.go `Serve` calls
`http.Server.Close`), so its pods drain in a preStop hook before the kubelet sends the signal: first a
pause while the endpoints drop the pod (it is marked terminating in its EndpointSlices at once, and
kube-proxy, the Gateway and other watchers follow within seconds), then a wait for the client
connections to end, bounded by the drain time. nginx (the auth proxy) drains by itself on SIGQUIT, its
image's stop signal, after the same pause. The pod's `terminationGracePeriodSeconds` covers the pause,
the drain and a margin for the process to stop; the kubelet's countdown includes the preStop hook
(https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).

Whatever else bounds a request (route timeouts, an autoscaler's interceptor, the proxy's upstream
timeouts) should agree with :func:`termination_grace_seconds`: a drain longer than a route's timeout waits
for answers the route has already cut.
"""

from __future__ import annotations

ENDPOINT_REMOVAL_SECONDS = 5
"""The pause before the drain: time for endpoint watchers to stop sending new connections."""

STOP_MARGIN_SECONDS = 15
"""Time after the drain for the process to stop (Ollama unloads its runners) before SIGKILL."""


def termination_grace_seconds(drain_seconds: int, delay_seconds: int = ENDPOINT_REMOVAL_SECONDS) -> int:
    """The pod's `terminationGracePeriodSeconds` for a drain of at most `drain_seconds` after a pause of
    `delay_seconds`: the pause, the drain and :data:`STOP_MARGIN_SECONDS`."""
    return delay_seconds + drain_seconds + STOP_MARGIN_SECONDS
