"""ApiKeyProxy on its own: what each prop drives, the rendered nginx.conf, security, labels, the Service.

The nginx.conf and the entrypoint are run for real in tests/test_api_key_proxy_nginx.py; here they are
read as text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cdk8s
import cdk8s_plus_28 as kplus
import pytest
from pydantic import ValidationError

from ollama_constructs import ComputeResources, OllamaServer, OllamaServerProps
from ollama_constructs import api_key_proxy as akp
from ollama_constructs.api_key_proxy import ApiKeyProxy, ApiKeyProxyProps
from tests.conftest import REPO, env_of, find

CHECKSUM = "checksum.ollama-constructs.dev/auth-proxy"
SELECTOR = {"app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "chat-auth"}


def synth_proxy(namespace: str | None = "team", *, with_server: bool = True, **props) -> tuple[ApiKeyProxy, list[dict]]:
    """The proxy in front of an OllamaServer `chat` (given as the `upstream` ref), synthesized."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=namespace)
    upstream = OllamaServer(chart, "Ollama", OllamaServerProps(name="chat")).service if with_server else None
    proxy = ApiKeyProxy(
        chart, "Auth", ApiKeyProxyProps(**{"name": "chat", "secret_name": "chat-keys", **props}), upstream=upstream
    )
    return proxy, cdk8s.Testing.synth(chart)


def proxy_objects(manifests: list[dict]) -> list[dict]:
    return [m for m in manifests if m["metadata"]["name"].endswith("-auth")]


def nginx_container(manifests: list[dict]) -> dict:
    (c,) = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]["containers"]
    return c


def nginx_conf(manifests: list[dict]) -> str:
    return find(manifests, "ConfigMap", "chat-auth")["data"]["nginx.conf"]


def directives(conf: str, name: str) -> list[str]:
    """The arguments of every `name ...;` directive in `conf` (comments removed)."""
    text = re.sub(r"#[^\n]*", "", conf)
    return [m.strip() for m in re.findall(rf"(?:^|[;{{}}\s]){re.escape(name)}\s+([^;]*);", text)]


def block(conf: str, header: str) -> str:
    """The body of the block that starts with `header {` (braces balanced, comments removed)."""
    text = re.sub(r"#[^\n]*", "", conf)
    start = text.index(header + " {") + len(header) + 2
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise AssertionError(f"unbalanced block {header}")


def test_defaults_give_a_configmap_deployment_and_service_named_name_auth() -> None:
    proxy, manifests = synth_proxy()
    assert sorted((m["kind"], m["metadata"]["name"]) for m in proxy_objects(manifests)) == [
        ("ConfigMap", "chat-auth"),
        ("Deployment", "chat-auth"),
        ("Service", "chat-auth"),
    ]
    assert cdk8s.ApiObject.of(proxy).kind == "Deployment"
    assert proxy.service_name == "chat-auth"
    assert proxy.port == 80
    assert proxy.url == "http://chat-auth.team.svc"
    assert proxy.deployment.name == "chat-auth"
    assert proxy.service.name == "chat-auth"
    assert proxy.config_map.name == "chat-auth"
    assert find(manifests, "Deployment", "chat-auth")["spec"]["replicas"] == 2


def test_defaults_of_the_props() -> None:
    props = ApiKeyProxyProps(secret_name="keys")
    assert props.name == "ollama"
    assert props.secret_key == "api-keys"
    assert props.timeout_seconds == 600
    assert props.replicas == 2
    assert props.max_body_size == "64m"
    assert props.upstream_service_name is None
    assert props.upstream_port is None


def test_the_synthesized_objects_pass_strict_schema_validation(validator) -> None:
    _, manifests = synth_proxy()
    assert validator.validate(manifests) == []


def test_service_port_80_to_8080_selecting_name_and_instance_only() -> None:
    _, manifests = synth_proxy()
    spec = find(manifests, "Service", "chat-auth")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [{"name": "http", "port": 80, "targetPort": 8080}]
    assert spec["selector"] == SELECTOR
    deployment = find(manifests, "Deployment", "chat-auth")
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert SELECTOR.items() <= template_labels.items()
    assert not any(k.startswith("cdk8s.io") for k in template_labels)


def test_the_services_never_select_each_others_pods() -> None:
    _, manifests = synth_proxy()
    ollama_selector = find(manifests, "Service", "chat")["spec"]["selector"]
    proxy_pods = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["metadata"]["labels"]
    ollama_pods = find(manifests, "Deployment", "chat")["spec"]["template"]["metadata"]["labels"]
    assert not ollama_selector.items() <= proxy_pods.items()
    assert not SELECTOR.items() <= ollama_pods.items()


def test_standard_and_extra_labels_on_every_object_and_pod() -> None:
    _, manifests = synth_proxy(labels={"app.kubernetes.io/part-of": "llm", "team": "ml"})
    objects = proxy_objects(manifests)
    pod = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["metadata"]["labels"]
    for labels in [m["metadata"]["labels"] for m in objects] + [pod]:
        assert labels["app.kubernetes.io/name"] == "ollama"
        assert labels["app.kubernetes.io/instance"] == "chat-auth"
        assert labels["app.kubernetes.io/component"] == "auth-proxy"
        assert labels["app.kubernetes.io/managed-by"] == "cdk8s"
        assert labels["app.kubernetes.io/version"] == "1.30.5-alpine"
        assert labels["app.kubernetes.io/part-of"] == "llm"
        assert labels["team"] == "ml"
    assert find(manifests, "Service", "chat-auth")["spec"]["selector"] == SELECTOR


def test_security_context_is_restricted_and_non_root() -> None:
    _, manifests = synth_proxy()
    pod = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    sc = nginx_container(manifests)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] > 0
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_runs_the_entrypoint_of_the_configmap_with_the_pinned_unprivileged_nginx() -> None:
    _, manifests = synth_proxy()
    c = nginx_container(manifests)
    repository, tag = c["image"].rsplit(":", 1)
    assert repository == "docker.io/nginxinc/nginx-unprivileged"
    assert re.fullmatch(r"\d+\.\d+\.\d+-alpine", tag), "pinned to an exact release"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["command"] == ["/bin/sh", "/opt/ollama-constructs/auth-proxy/entrypoint.sh"]
    assert c["ports"] == [{"containerPort": 8080, "name": "http"}]
    assert env_of(c) == {
        "OLLAMA_AUTH_KEYS_FILE": "/var/run/secrets/ollama-auth/api-keys",
        "OLLAMA_AUTH_MAP_FILE": "/run/ollama-auth/api-keys.map",
        "OLLAMA_AUTH_NGINX_CONF": "/opt/ollama-constructs/auth-proxy/nginx.conf",
        "OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS": "5",
    }
    config = find(manifests, "ConfigMap", "chat-auth")["data"]
    assert sorted(config) == ["entrypoint.sh", "nginx.conf"]
    assert config["entrypoint.sh"] == akp.proxy_file("entrypoint.sh")
    assert config["entrypoint.sh"].startswith("#!/bin/sh\n")
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/opt/ollama-constructs/auth-proxy"]["readOnly"] is True
    volumes = {v["name"]: v for v in find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/opt/ollama-constructs/auth-proxy"]["name"]]["configMap"]["name"] == "chat-auth"


def test_the_secret_key_is_mounted_read_only_as_the_key_file() -> None:
    _, manifests = synth_proxy(secret_name="team-api-keys", secret_key="keys.txt")
    c = nginx_container(manifests)
    pod = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/var/run/secrets/ollama-auth")
    assert mount["readOnly"] is True
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"] == {
        "secretName": "team-api-keys",
        "items": [{"key": "keys.txt", "path": "api-keys"}],
        "defaultMode": 0o440,
    }
    assert env_of(c)["OLLAMA_AUTH_KEYS_FILE"] == "/var/run/secrets/ollama-auth/api-keys"
    assert not [m for m in manifests if m["kind"] == "Secret"], "the Secret exists already; it is not created"


def test_every_path_nginx_writes_is_on_an_empty_dir() -> None:
    _, manifests = synth_proxy()
    c = nginx_container(manifests)
    pod = find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    empty_dirs = {
        m["mountPath"]: volumes[m["name"]]["emptyDir"] for m in c["volumeMounts"] if "emptyDir" in volumes[m["name"]]
    }
    assert set(empty_dirs) == {"/tmp", "/var/cache/nginx", "/run/ollama-auth"}
    assert empty_dirs["/run/ollama-auth"]["medium"] == "Memory", "the generated map of keys stays off the node's disk"
    conf = nginx_conf(manifests)
    temp_kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    written = directives(conf, "pid") + [path for kind in temp_kinds for path in directives(conf, f"{kind}_temp_path")]
    assert len(written) == 6
    assert all(path.startswith("/tmp/") for path in written), written
    assert directives(conf, "include") == ["/run/ollama-auth/api-keys.map"]
    assert env_of(c)["OLLAMA_AUTH_MAP_FILE"] == "/run/ollama-auth/api-keys.map"


def test_probes_use_the_unauthenticated_healthz_that_nginx_answers_itself() -> None:
    _, manifests = synth_proxy()
    c = nginx_container(manifests)
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": 8080, "scheme": "HTTP"}
        assert c[probe]["timeoutSeconds"] >= 1
    health = block(nginx_conf(manifests), "location = /healthz")
    assert "return 200" in health
    assert "proxy_pass" not in health and "$ollama_auth_ok" not in health


def test_configmap_checksum_annotation_follows_the_config() -> None:
    _, first = synth_proxy()
    _, same = synth_proxy()
    _, other = synth_proxy(timeout_seconds=1200)
    annotation = find(first, "Deployment", "chat-auth")["spec"]["template"]["metadata"]["annotations"][CHECKSUM]
    assert re.fullmatch(r"[0-9a-f]{64}", annotation)
    assert find(same, "Deployment", "chat-auth")["spec"]["template"]["metadata"]["annotations"][CHECKSUM] == annotation
    assert find(other, "Deployment", "chat-auth")["spec"]["template"]["metadata"]["annotations"][CHECKSUM] != annotation


def test_timeouts_and_body_size_are_rendered_into_the_config() -> None:
    _, manifests = synth_proxy(timeout_seconds=1800, max_body_size="128m")
    conf = nginx_conf(manifests)
    assert directives(conf, "proxy_read_timeout") == ["1800s"]
    assert directives(conf, "proxy_send_timeout") == ["1800s"]
    assert directives(conf, "client_max_body_size") == ["128m"]
    _, defaults = synth_proxy()
    assert directives(nginx_conf(defaults), "proxy_read_timeout") == ["600s"]
    assert directives(nginx_conf(defaults), "client_max_body_size") == ["64m"]


def test_a_stopping_proxy_drains_like_the_server() -> None:
    _, defaults = synth_proxy()
    pod = find(defaults, "Deployment", "chat-auth")["spec"]["template"]["spec"]
    # The preStop pause, then nginx's graceful stop (SIGQUIT) bounded by worker_shutdown_timeout.
    assert nginx_container(defaults)["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    assert directives(nginx_conf(defaults), "worker_shutdown_timeout") == ["600s"], "the drain follows the timeout"
    assert pod["terminationGracePeriodSeconds"] == 5 + 600 + 15
    _, drained = synth_proxy(timeout_seconds=900, drain_seconds=120, drain_delay_seconds=3)
    assert directives(nginx_conf(drained), "worker_shutdown_timeout") == ["120s"]
    assert nginx_container(drained)["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "3"]
    assert find(drained, "Deployment", "chat-auth")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 138


def test_no_idle_connection_is_kept_to_ollama() -> None:
    """A kept connection would keep going to a draining pod and hold its drain (see `_drain`)."""
    _, manifests = synth_proxy()
    assert directives(block(nginx_conf(manifests), "upstream ollama"), "keepalive") == []


def test_accepted_requests_stream_to_the_upstream_without_the_key() -> None:
    _, manifests = synth_proxy()
    conf = nginx_conf(manifests)
    proxied = block(conf, "location /")
    assert directives(proxied, "proxy_pass") == ["http://ollama"]
    assert directives(proxied, "proxy_http_version") == ["1.1"]
    assert directives(proxied, "proxy_buffering") == ["off"]
    assert directives(proxied, "proxy_request_buffering") == ["off"]
    headers = dict(h.split(None, 1) for h in directives(proxied, "proxy_set_header"))
    assert headers["Authorization"] == '""', "an empty value keeps the header from the upstream"
    assert headers["Host"] == "chat.team.svc", "the namespace-qualified name (an interceptor routes by it)"
    assert headers["Connection"] == '""'
    assert "if ($ollama_auth_ok != 1)" in proxied
    assert directives(block(conf, "upstream ollama"), "server") == ["chat:80"]
    assert directives(conf, "listen") == ["8080"]


def test_unauthorized_answer_is_json_with_a_bearer_challenge() -> None:
    _, manifests = synth_proxy()
    conf = nginx_conf(manifests)
    assert directives(conf, "error_page") == ["401 @unauthorized"]
    denied = block(conf, "location @unauthorized")
    assert directives(denied, "default_type") == ["application/json"]
    assert "WWW-Authenticate Bearer always" in directives(denied, "add_header")
    assert directives(denied, "return") == ["401 '{\"error\":\"unauthorized\"}\\n'"]


def test_the_access_log_never_names_the_authorization_header() -> None:
    _, manifests = synth_proxy()
    conf = nginx_conf(manifests)
    formats = directives(conf, "log_format")
    assert [f.split()[0] for f in formats] == ["ollama_auth"]
    for variable in ("$http_authorization", "$remote_user", "$request ", "$request_uri", "$args", "$query_string"):
        assert variable not in formats[0].replace("'", " "), variable
    logs = directives(conf, "access_log")
    assert logs and all(log == "off" or log.split()[1:] == ["ollama_auth"] for log in logs), logs


def test_the_template_is_a_package_file_fully_rendered() -> None:
    template = akp.proxy_file(akp.TEMPLATE)
    assert (REPO / "ollama_constructs" / "proxy" / "nginx.conf.template").read_text() == template
    assert re.findall(r"@([A-Z][A-Z0-9_]*)@", template)
    _, manifests = synth_proxy()
    assert not re.search(r"@[A-Z][A-Z0-9_]*@", nginx_conf(manifests))
    assert "proxy_pass" not in Path(akp.__file__).read_text(), "the config lives in the template, not in Python"


def test_render_refuses_unknown_and_unused_placeholders() -> None:
    assert akp.render("listen @PORT@;", {"PORT": "8080"}) == "listen 8080;"
    with pytest.raises(ValueError, match="@PORT@, which has no value"):
        akp.render("listen @PORT@;", {})
    with pytest.raises(ValueError, match="no placeholder for HOST"):
        akp.render("listen @PORT@;", {"PORT": "1", "HOST": "x"})


def test_upstream_from_props_name_and_port() -> None:
    _, manifests = synth_proxy(with_server=False, upstream_service_name="ollama-phi", upstream_port=11434)
    conf = nginx_conf(manifests)
    assert directives(block(conf, "upstream ollama"), "server") == ["ollama-phi:11434"]
    assert "Host ollama-phi.team.svc:11434" in directives(conf, "proxy_set_header")
    _, manifests = synth_proxy(with_server=False, upstream_service_name="ollama-phi")
    assert directives(block(nginx_conf(manifests), "upstream ollama"), "server") == ["ollama-phi:80"]


def test_upstream_ref_in_another_namespace_is_qualified() -> None:
    app = cdk8s.Testing.app()
    models = cdk8s.Chart(app, "models", namespace="models")
    edge = cdk8s.Chart(app, "edge", namespace="edge")
    server = OllamaServer(models, "Ollama", OllamaServerProps(name="phi"))
    proxy = ApiKeyProxy(edge, "Auth", ApiKeyProxyProps(name="phi", secret_name="keys"), upstream=server.service)
    assert (proxy.upstream_host, proxy.upstream_port) == ("phi.models.svc", 80)
    conf = cdk8s.Testing.synth(edge)[0]["data"]["nginx.conf"]
    assert directives(block(conf, "upstream ollama"), "server") == ["phi.models.svc:80"]


def test_upstream_ref_port_and_its_checks() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    service = kplus.Service(
        chart,
        "Svc",
        metadata=cdk8s.ApiObjectMetadata(name="llm"),
        ports=[kplus.ServicePort(name="http", port=8000, target_port=11434), kplus.ServicePort(name="alt", port=9000)],
    )
    proxy = ApiKeyProxy(chart, "A", ApiKeyProxyProps(name="a", secret_name="k"), upstream=service)
    assert (proxy.upstream_host, proxy.upstream_port) == ("llm", 8000)
    proxy = ApiKeyProxy(chart, "B", ApiKeyProxyProps(name="b", secret_name="k", upstream_port=9000), upstream=service)
    assert proxy.upstream_port == 9000
    with pytest.raises(ValueError, match="not a port of the Service llm"):
        ApiKeyProxy(chart, "C", ApiKeyProxyProps(name="c", secret_name="k", upstream_port=80), upstream=service)
    with pytest.raises(ValueError, match="not both"):
        props = ApiKeyProxyProps(name="d", secret_name="k", upstream_service_name="x")
        ApiKeyProxy(chart, "D", props, upstream=service)
    with pytest.raises(ValueError, match="needs the upstream"):
        ApiKeyProxy(chart, "E", ApiKeyProxyProps(name="e", secret_name="k"))


def test_replicas_resources_image_and_rollout() -> None:
    resources = ComputeResources(cpu_request="100m", cpu_limit="1", memory_request="64Mi", memory_limit="256Mi")
    image = "docker.io/nginxinc/nginx-unprivileged:1.31.6-alpine"
    _, manifests = synth_proxy(replicas=3, resources=resources, image=image)
    deployment = find(manifests, "Deployment", "chat-auth")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    c = nginx_container(manifests)
    assert c["image"] == image
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "1.31.6-alpine"
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}
    _, defaults = synth_proxy()
    assert nginx_container(defaults)["resources"] == {
        "requests": {"cpu": "50m", "memory": "32Mi", "ephemeral-storage": "64Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi", "ephemeral-storage": "256Mi"},
    }


def test_without_a_namespace_the_url_is_the_bare_service_name() -> None:
    proxy, _ = synth_proxy(namespace=None)
    assert proxy.url == "http://chat-auth"


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({}, "secret_name"),
        ({"secret_name": "Bad_Name"}, "must be a DNS name: dot-separated parts of lower-case letters"),
        ({"secret_name": "k", "name": "Bad"}, "must be a DNS label: lower-case letters, digits"),
        ({"secret_name": "k", "name": "n" * 48}, "at most 47"),
        ({"secret_name": "k", "secret_key": "a/b"}, "must be a key of a Secret or ConfigMap"),
        ({"secret_name": "k", "upstream_service_name": "ollama.phi"}, "must be a DNS label"),
        ({"secret_name": "k", "upstream_port": 0}, "greater than or equal to 1"),
        ({"secret_name": "k", "timeout_seconds": 0}, "greater than or equal to 1"),
        ({"secret_name": "k", "max_body_size": "64 MB"}, "must be an nginx size: a number of bytes"),
        ({"secret_name": "k", "replicas": -1}, "greater than or equal to 0"),
        ({"secret_name": "k", "labels": {"app.kubernetes.io/instance": "x"}}, "set by the library"),
        ({"secret_name": "k", "unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_props_are_refused(props: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ApiKeyProxyProps(**props)


def test_props_are_frozen() -> None:
    props = ApiKeyProxyProps(secret_name="k")
    with pytest.raises(ValidationError):
        props.replicas = 3  # type: ignore[misc]


def test_entrypoint_passes_shellcheck_as_posix_sh() -> None:
    shellcheck = Path(sys.executable).parent / "shellcheck"
    entrypoint = REPO / "ollama_constructs" / "proxy" / "entrypoint.sh"
    result = subprocess.run(
        [str(shellcheck), "-s", "sh", str(entrypoint)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert entrypoint.read_text().startswith("#!/bin/sh\n")


@pytest.mark.parametrize("script", ["install-test-tools.sh", "install-test-root.sh"])
def test_install_scripts_pass_shellcheck(script: str) -> None:
    shellcheck = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run(
        [str(shellcheck), str(REPO / "scripts" / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_keys_are_mounted_as_a_directory_and_checked_for_changes() -> None:
    _, manifests = synth_proxy(keys_reload_seconds=30)
    c = nginx_container(manifests)
    assert env_of(c)["OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS"] == "30"
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/var/run/secrets/ollama-auth"]
    assert "subPath" not in mount, "the kubelet updates a Secret in place only when the whole volume is mounted"
    (volume,) = [v for v in find(manifests, "Deployment", "chat-auth")["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert volume["secret"]["items"] == [{"key": "api-keys", "path": "api-keys"}]
