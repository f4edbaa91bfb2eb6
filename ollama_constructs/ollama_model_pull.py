"""`OllamaModelPull`: the models on the model volume before the server starts, and kept in line after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import BeforeValidator, Field, model_validator

from . import _checkov, _labels, _pod, _scripts
from ._defaults import DEFAULT_OLLAMA_IMAGE, MODELS_PATH
from ._props import Props
from ._scope import public_construct
from ._types import DataKey, DnsLabel, DnsSubdomain
from .compute_resources import ComputeResources
from .model_reference import ManifestDigest, ModelName

if TYPE_CHECKING:
    from .ollama_server import OllamaServer

_SPEC_DIR = "/etc/ollama-constructs/models"
_CA_DIR = "/etc/ollama-constructs/ca"
_LOCAL_SERVER = "127.0.0.1:11434"
"""The init container's temporary server, and (from the sidecar) the pod's own server."""
_LOCK = f"{MODELS_PATH}/.model-pull.lock"


class ModelSource(Props):
    """One model to pull: from where, pinned to what, and under which name clients use it."""

    ref: ModelName
    """What `ollama pull` gets, e.g. `phi:latest` or `models.corp:5000/library/phi:latest`."""
    digest: ManifestDigest | None = None
    """The manifest digest (`sha256:<hex>`) the model must have; when it is on the volume the registry is
    not contacted at all. Default: not pinned (a model on the volume is used as is)."""
    alias: ModelName | None = None
    """The name clients use, copied from `ref` after the pull (`ollama cp`), e.g. `phi:latest` for a model
    from an internal registry. Default: none (clients use `ref`)."""
    insecure: bool = False
    """Pull over plain HTTP (`ollama pull --insecure`). Default: `false`."""

    @property
    def served_name(self) -> str:
        """The name the server knows the model by for clients."""
        return self.alias or self.ref

    def spec_line(self) -> str:
        """The entry in `models.list`."""
        words = ["pull", self.ref]
        if self.digest:
            words.append(f"digest={self.digest}")
        if self.alias:
            words.append(f"alias={self.alias}")
        if self.insecure:
            words.append("insecure")
        return " ".join(words)


def _source(value: Any) -> Any:
    return {"ref": value} if isinstance(value, str) else value


class CustomModelfile(Props):
    """A model built at start-up with `ollama create NAME -f Modelfile`."""

    name: ModelName
    """The new model's name."""
    modelfile: str = Field(min_length=1)
    """The Modelfile text; its FROM should be one of the pulled models, so registry settings and pins apply."""


class SecretKey(Props):
    """One key of a Secret."""

    secret_name: DnsSubdomain
    """The Secret's name."""
    key: DataKey = "ca.crt"
    """The key. Default: `ca.crt`."""


class OllamaModelPullProps(Props):
    """Which models to pull and build, and how the pull behaves."""

    models: tuple[Annotated[ModelSource | str, BeforeValidator(_source)], ...] = ()
    """The models to pull, in order (a plain string is a `ModelSource` ref); each is checked with
    `ollama show`. Default: with `server=`, the server's models as they are (give them here to add
    digests, aliases or a registry; every model of the server must be among them); without it, required."""
    custom_models: tuple[CustomModelfile, ...] = ()
    """Models built from Modelfiles after the pulls. Default: none."""
    name: DnsLabel = "ollama"
    """Base name of the ConfigMaps `<name>-models` (the model list and Modelfiles) and, without `server=`,
    `<name>-model-pull` (the scripts). Default: the server's name with `server=`, else `ollama`."""
    image: str = DEFAULT_OLLAMA_IMAGE
    """The Ollama image; the server's, so that the store format matches. Default: the server's with
    `server=`, else `docker.io/ollama/ollama:0.32.15`."""
    server_start_timeout_seconds: int = Field(default=120, ge=5)
    """How long the temporary `ollama serve` may take to answer. Default: `120`."""
    attempts: int = Field(default=3, ge=1, le=10)
    """Attempts per model before the pull fails. Default: `3`."""
    retry_delay_seconds: int = Field(default=5, ge=1, le=60)
    """Wait before the second attempt, doubled after each failure (at most 60 s). Default: `5`."""
    pull_timeout_seconds: int = Field(default=3600, ge=0)
    """Limit of one pull attempt; `0` means no limit. Default: `3600` (an hour, for large models)."""
    refresh: bool = False
    """Pull unpinned models that are already on the volume again, to follow a moved tag; a failed refresh
    keeps the copy on disk. Default: `false` (a model on disk is used as is; pin a digest to change it)."""
    hot_swap: bool = True
    """Run the `model-manager` sidecar, which pulls models added to the list while the server keeps
    serving; the list then lives outside the pod template, so changing it does not roll the pods.
    Default: `true`."""
    remove_unlisted: bool = False
    """Let the sidecar delete models that are no longer listed. Default: `false`."""
    manager_interval_seconds: int = Field(default=30, ge=5)
    """How often the sidecar compares the list with the server. Default: `30`."""
    shared_volume: bool = False
    """The model volume is shared by several pods (ReadWriteMany): pulls take a lock on the volume.
    Default: the server's volume with `server=`, else `false`."""
    ca_bundle: SecretKey | None = None
    """A CA bundle for a registry with a private certificate, mounted and named by `SSL_CERT_FILE` (it
    replaces the image's CAs for these containers). Default: the image's CAs."""
    resources: ComputeResources = ComputeResources(
        cpu_request="250m", cpu_limit="2", memory_request="512Mi", memory_limit="2Gi"
    )
    """Requests and limits of the init container. Default: 250m/2 CPU, 512Mi/2Gi memory."""
    manager_resources: ComputeResources = ComputeResources(
        cpu_request="10m", cpu_limit="500m", memory_request="32Mi", memory_limit="256Mi"
    )
    """Requests and limits of the sidecar. Default: 10m/500m CPU, 32Mi/256Mi memory."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on the ConfigMaps. Default: none."""

    @model_validator(mode="after")
    def _unique(self) -> OllamaModelPullProps:
        names = [m.served_name for m in self.models] + [c.name for c in self.custom_models]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"models are listed twice: {', '.join(twice)}")
        return self

    def models_list(self) -> str:
        """The text of `models.list`, the one model list of the init container and the sidecar."""
        lines = ["# Models of this server, in order; written by ollama-constructs."]
        lines += [m.spec_line() for m in self.models]
        lines += [f"create {c.name} modelfile={modelfile_key(i)}" for i, c in enumerate(self.custom_models)]
        return "\n".join(lines) + "\n"


def modelfile_key(index: int) -> str:
    """The ConfigMap key (file name) of the `index`-th custom model's Modelfile."""
    return f"custom-{index}.Modelfile"


@public_construct
class OllamaModelPull(Construct):
    """Puts the models on an Ollama pod's model volume before the server starts, and keeps them in line.

    The init container `model-pull` runs a temporary `ollama serve` on 127.0.0.1, waits for it by polling
    `ollama list` with a deadline, and for each entry of the model list: uses the model on the volume when
    it is there (a pinned model only when its manifest digest matches, so the registry is not contacted),
    pulls it otherwise (bounded retries), verifies a pinned digest by hashing the manifest file, copies it
    to the name clients use, checks it with `ollama show`; then builds the custom models with
    `ollama create`, and stops the temporary server. Every step is logged; any failure exits non-zero
    naming the model. It sees no GPU.

    With `hot_swap`, the sidecar `model-manager` re-reads the list every `manager_interval_seconds` and
    pulls (and, with `remove_unlisted`, deletes) models through the running server, with bounded backoff.

    Given `server=` (an :class:`OllamaServer`), the pull follows it: its models (unless `models` adds
    digests, aliases or a registry), workload, model volume, container, image, name and volume sharing;
    the scripts go into the server's scripts ConfigMap, so each ships once per pod. Without it, give
    `workload` and `models_volume` (and `server_container` for the CA bundle).

    Synthesizes:
      * a ConfigMap `<name>-models` (the `Resource` child) holding `models.list` and the Modelfiles;
      * without `server=`, a ConfigMap `<name>-model-pull` holding the scripts;
      * the init container `model-pull` and (with `hot_swap`) the container `model-manager`, added to the
        workload, with the model volume mounted at `/var/lib/ollama` (the layout :class:`OllamaServer` uses).

    Pod-template checksums roll the pods when the scripts or a Modelfile change, and when the model list
    changes without `hot_swap`.

    Raises:
        ValueError: naming this construct's path, when the wiring is inconsistent: `server=` together with
            `workload`, `models_volume` or `server_container`; a model of the server that is not pulled or
            built; an `image`, `name` or `shared_volume` that differs from the server's; neither `server=`
            nor `workload` and `models_volume`; no models.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: OllamaModelPullProps | None = None,
        *,
        server: OllamaServer | None = None,
        workload: kplus.AbstractPod | None = None,
        models_volume: kplus.Volume | None = None,
        server_container: kplus.Container | None = None,
    ) -> None:
        """Attach the pull to `server`'s pod, or to `workload`.

        Args:
            server: the :class:`OllamaServer` whose pod gets the models; everything else follows from it.
            workload: without `server`, the pod or workload running Ollama.
            models_volume: without `server`, the volume the server keeps its models on.
            server_container: without `server`, the Ollama server container; it gets the registry CA
                bundle too, because the sidecar's pulls run in the server. Default: none.
        """
        super().__init__(scope, id)
        path = self.node.path
        p = props or OllamaModelPullProps()
        if server is not None:
            if workload is not None or models_volume is not None or server_container is not None:
                raise ValueError(
                    f"{path}: give either server= or workload=/models_volume=/server_container=, not both "
                    "(the server gives its workload, model volume and container)"
                )
            p = _follow_server(path, p, server)
            workload, models_volume, server_container = server.workload, server.models_volume, server.container
        elif workload is None or models_volume is None:
            raise ValueError(f"{path}: OllamaModelPull needs server= (an OllamaServer), or workload= and models_volume=")
        if not p.models and not p.custom_models:
            raise ValueError(f"{path}: no models to pull: give models (or server= with models)")
        self.props = p
        labels = _labels.object_labels(p.name, "model-pull", p.labels)
        modelfiles = {modelfile_key(i): c.modelfile for i, c in enumerate(p.custom_models)}
        self.models_config_map = kplus.ConfigMap(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-models", labels=labels),
            data={"models.list": p.models_list(), **modelfiles},
        )
        """The ConfigMap holding `models.list` and the Modelfiles."""
        self.config_map: kplus.ConfigMap
        """The ConfigMap holding the scripts: the server's with `server=`, else `<name>-model-pull`."""
        if server is not None:
            server.add_scripts(*_scripts.PULL_SCRIPTS)
            self.config_map = server.scripts_config_map
            scripts_volume = server.scripts_volume
            checksums: dict[str, str] = {}
        else:
            scripts = _scripts.scripts_data(*_scripts.PULL_SCRIPTS)
            self.config_map = kplus.ConfigMap(
                self, "Scripts", metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-model-pull", labels=labels), data=scripts
            )
            scripts_volume = kplus.Volume.from_config_map(self, "ScriptsVolume", self.config_map, name="model-pull-scripts")
            checksums = {"model-pull": _scripts.checksum(scripts)}
        if modelfiles:
            checksums["modelfiles"] = _scripts.checksum(modelfiles)
        if not p.hot_swap:
            checksums["models"] = _scripts.checksum({"models.list": p.models_list()})
        for key, value in checksums.items():
            workload.pod_metadata.add_annotation(f"{_scripts.CHECKSUM_ANNOTATION_PREFIX}{key}", value)

        spec_volume = kplus.Volume.from_config_map(self, "SpecVolume", self.models_config_map, name="model-list")
        ca_volume = None
        if p.ca_bundle is not None:
            ca_secret = kplus.Secret.from_secret_name(self, "CaSecret", p.ca_bundle.secret_name)
            ca_volume = kplus.Volume.from_secret(self, "CaVolume", ca_secret, name="registry-ca")

        def mounts(tmp: str, *, writes_models: bool) -> list[kplus.VolumeMount]:
            # The manager reads manifests (digest checks) and writes through the server; on a shared volume
            # it also takes the pull lock there.
            return [
                kplus.VolumeMount(path="/tmp", volume=kplus.Volume.from_empty_dir(self, f"{tmp}Volume", tmp)),
                kplus.VolumeMount(path=MODELS_PATH, volume=models_volume, read_only=not writes_models),
                kplus.VolumeMount(path=_scripts.SCRIPTS_DIR, volume=scripts_volume, read_only=True),
                kplus.VolumeMount(path=_SPEC_DIR, volume=spec_volume, read_only=True),
            ]

        self.init_container = workload.add_init_container(
            name="model-pull",
            image=p.image,
            image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
            command=["bash", f"{_scripts.SCRIPTS_DIR}/model-pull.sh"],
            env_variables=_pod.env_values(self._init_env()),
            security_context=_pod.restricted_security_context(),
            volume_mounts=mounts("model-pull-tmp", writes_models=True),
        )
        """The init container added to the workload."""
        patches = [p.resources.patch(f"{_pod.container_path(workload, self.init_container, init=True)}/resources")]

        self.manager_container: kplus.Container | None = None
        """The `model-manager` sidecar, with `hot_swap`."""
        if p.hot_swap:
            self.manager_container = workload.add_container(
                name="model-manager",
                image=p.image,
                image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
                command=["bash", f"{_scripts.SCRIPTS_DIR}/model-manager.sh"],
                env_variables=_pod.env_values(self._manager_env()),
                security_context=_pod.restricted_security_context(),
                volume_mounts=mounts("model-manager-tmp", writes_models=p.shared_volume),
            )
            patches.append(
                p.manager_resources.patch(f"{_pod.container_path(workload, self.manager_container)}/resources")
            )
            _checkov.skip_checks_once(workload, *_checkov.SIDECAR_PROBE_SKIPS)
        _pod.patch_workload(workload, *patches)
        if ca_volume is not None and p.ca_bundle is not None:
            for container in [self.init_container, *([server_container] if server_container else [])]:
                container.mount(_CA_DIR, ca_volume, read_only=True)
                container.env.add_variable("SSL_CERT_FILE", _pod.env_value(f"{_CA_DIR}/{p.ca_bundle.key}"))

    def _init_env(self) -> dict[str, str]:
        p = self.props
        env = {
            "HOME": MODELS_PATH,
            "OLLAMA_HOST": _LOCAL_SERVER,
            "OLLAMA_MODELS": f"{MODELS_PATH}/models",
            # Keep partial downloads across retries; pruning is the long-running server's job.
            "OLLAMA_NOPRUNE": "1",
            "OLLAMA_NO_CLOUD": "1",
            "NVIDIA_VISIBLE_DEVICES": "void",
            "OLLAMA_MODELS_SPEC_DIR": _SPEC_DIR,
            "OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS": str(p.server_start_timeout_seconds),
            "OLLAMA_PULL_ATTEMPTS": str(p.attempts),
            "OLLAMA_PULL_RETRY_DELAY_SECONDS": str(p.retry_delay_seconds),
            "OLLAMA_PULL_TIMEOUT_SECONDS": str(p.pull_timeout_seconds),
            "OLLAMA_PULL_REFRESH": "1" if p.refresh else "0",
        }
        if p.shared_volume:
            env["OLLAMA_PULL_LOCK"] = _LOCK
        return env

    def _manager_env(self) -> dict[str, str]:
        p = self.props
        return {
            "HOME": "/tmp",
            "OLLAMA_HOST": _LOCAL_SERVER,
            "OLLAMA_MODELS": f"{MODELS_PATH}/models",
            "NVIDIA_VISIBLE_DEVICES": "void",
            "OLLAMA_MODELS_SPEC_DIR": _SPEC_DIR,
            "OLLAMA_MANAGER_INTERVAL_SECONDS": str(p.manager_interval_seconds),
            "OLLAMA_MANAGER_REMOVE_UNLISTED": "1" if p.remove_unlisted else "0",
            "OLLAMA_PULL_RETRY_DELAY_SECONDS": str(p.retry_delay_seconds),
            "OLLAMA_PULL_TIMEOUT_SECONDS": str(p.pull_timeout_seconds),
            **({"OLLAMA_PULL_LOCK": _LOCK} if p.shared_volume else {}),
        }


def _served(p: OllamaModelPullProps) -> set[str]:
    """The names clients can use after the pull (refs or their aliases, and the custom models), in lower
    case: Ollama treats names that differ only in case as one (getExistingName, server/routes.go)."""
    return {m.served_name.lower() for m in p.models} | {c.name.lower() for c in p.custom_models}


def _follow_server(path: str, p: OllamaModelPullProps, server: OllamaServer) -> OllamaModelPullProps:
    """`p` with what follows from `server` filled in; raises ValueError naming `path` when `p` disagrees."""
    s = server.props
    updates: dict[str, Any] = {}
    for field, value in (("image", s.image), ("name", s.name), ("shared_volume", s.shared_volume)):
        if field in p.model_fields_set and getattr(p, field) != value:
            raise ValueError(
                f"{path}: {field} {getattr(p, field)!r} differs from the server's ({value!r}); "
                f"leave it out, it follows the server given as server="
            )
        updates[field] = value
    if not p.models:
        updates["models"] = tuple(ModelSource(ref=m) for m in s.models)
    else:
        served = _served(p)
        missing = [m for m in s.models if m.lower() not in served]
        if missing:
            primary = " (its primary model, which readiness and preload are about)" if s.models[0] in missing else ""
            raise ValueError(
                f"{path}: the server {s.name} serves {', '.join(missing)}{primary}, which these models do not pull "
                f"or build ({', '.join(m.served_name for m in p.models)}); list every model of the server, or leave "
                "models out to pull the server's"
            )
    return type(p).model_validate({**dict(p), **updates})
