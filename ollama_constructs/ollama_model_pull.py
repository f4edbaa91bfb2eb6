"""`OllamaModelPull`: an init container that puts the models on the model volume before the server starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import AfterValidator, Field

from . import _labels, _pod, _scripts
from ._defaults import DEFAULT_OLLAMA_IMAGE, MODELS_PATH
from ._props import Props
from ._types import DnsLabel
from .compute_resources import ComputeResources
from .model_reference import normalize_model_name

_SCRIPTS_DIR = f"{_scripts.SCRIPTS_ROOT}/pull"
_TEMPORARY_SERVER = "127.0.0.1:11434"

ModelName = Annotated[str, AfterValidator(normalize_model_name)]


class OllamaModelPullProps(Props):
    """Which models to pull, and the time budget of the pull."""

    models: Annotated[tuple[ModelName, ...], Field(min_length=1)]
    """The models to pull (`:latest` is added to untagged names); each is checked with `ollama show`."""
    name: DnsLabel = "ollama"
    """Base name of the ConfigMap `<name>-model-pull` that holds the script. Default: `ollama`."""
    image: str = DEFAULT_OLLAMA_IMAGE
    """The Ollama image; use the server's, so that the store format matches. Default:
    `docker.io/ollama/ollama:0.32.15`."""
    server_start_timeout_seconds: int = Field(default=120, ge=5)
    """How long the temporary `ollama serve` may take to answer. Default: `120`."""
    attempts: int = Field(default=3, ge=1, le=10)
    """Attempts per model before the pull fails. Default: `3`."""
    retry_delay_seconds: int = Field(default=5, ge=1, le=60)
    """Wait before the second attempt, doubled after each failure (at most 60 s). Default: `5`."""
    pull_timeout_seconds: int = Field(default=3600, ge=0)
    """Limit of one pull attempt; `0` means no limit. Default: `3600` (an hour, for large models)."""
    refresh: bool = False
    """Pull models that are already on the volume again, to follow a moved tag; a failed refresh keeps
    the copy on disk. Default: `false` (a model on disk is used as is)."""
    resources: ComputeResources = ComputeResources(
        cpu_request="250m", cpu_limit="2", memory_request="512Mi", memory_limit="2Gi"
    )
    """Requests and limits of the init container. Default: 250m/2 CPU, 512Mi/2Gi memory."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on the ConfigMap. Default: none."""


class OllamaModelPull(Construct):
    """Pulls models into an Ollama pod's model volume from an init container, before the server starts.

    The init container runs a temporary `ollama serve` on 127.0.0.1, waits for it by polling `ollama list`
    with a deadline, pulls each model that is not on the volume yet (with bounded retries), checks each
    with `ollama show`, then stops the temporary server. Every step is logged to the container's output;
    any failure exits non-zero with a message naming the model. The container sees no GPU.

    Synthesizes:
      * a ConfigMap `<name>-model-pull` (the `Resource` child) holding the script;
      * an init container `model-pull` added to `workload`, with `models_volume` mounted at `/var/lib/ollama`
        (the same layout :class:`OllamaServer` uses).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: OllamaModelPullProps,
        *,
        workload: kplus.AbstractPod,
        models_volume: kplus.Volume,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        data = _scripts.scripts_data("model-pull.sh")
        self.config_map = kplus.ConfigMap(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(
                name=f"{p.name}-model-pull", labels=_labels.object_labels(p.name, "model-pull", p.labels)
            ),
            data=data,
        )
        workload.pod_metadata.add_annotation(f"{_scripts.CHECKSUM_ANNOTATION_PREFIX}model-pull", _scripts.checksum(data))
        env = {
            "HOME": MODELS_PATH,
            "OLLAMA_HOST": _TEMPORARY_SERVER,
            "OLLAMA_MODELS": f"{MODELS_PATH}/models",
            # Keep partial downloads across retries; pruning is the long-running server's job.
            "OLLAMA_NOPRUNE": "1",
            "OLLAMA_NO_CLOUD": "1",
            "NVIDIA_VISIBLE_DEVICES": "void",
            "OLLAMA_PULL_MODELS": "\n".join(p.models),
            "OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS": str(p.server_start_timeout_seconds),
            "OLLAMA_PULL_ATTEMPTS": str(p.attempts),
            "OLLAMA_PULL_RETRY_DELAY_SECONDS": str(p.retry_delay_seconds),
            "OLLAMA_PULL_REFRESH": "1" if p.refresh else "0",
            "OLLAMA_PULL_TIMEOUT_SECONDS": str(p.pull_timeout_seconds),
        }
        self.init_container = workload.add_init_container(
            name="model-pull",
            image=p.image,
            image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
            command=["bash", f"{_SCRIPTS_DIR}/model-pull.sh"],
            env_variables={k: kplus.EnvValue.from_value(v) for k, v in sorted(env.items())},
            security_context=_pod.restricted_security_context(),
        )
        """The init container added to the workload."""
        self.init_container.mount(MODELS_PATH, models_volume)
        self.init_container.mount("/tmp", kplus.Volume.from_empty_dir(self, "Tmp", "model-pull-tmp"))
        self.init_container.mount(
            _SCRIPTS_DIR,
            kplus.Volume.from_config_map(self, "ScriptsVolume", self.config_map, name="model-pull-scripts"),
            read_only=True,
        )
        _pod.patch_workload(
            workload,
            cdk8s.JsonPatch.add(
                f"{_pod.container_path(workload, self.init_container, init=True)}/resources", p.resources.to_kube()
            ),
        )
