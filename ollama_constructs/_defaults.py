"""Pinned defaults shared by the constructs and the catalog layer."""

DEFAULT_OLLAMA_IMAGE = "docker.io/ollama/ollama:0.32.15"
"""Ollama 0.32.15, the newest stable release; 0.5.13 was the first with Blackwell (sm_120) kernels."""

OLLAMA_PORT = 11434
"""The port `ollama serve` listens on."""

MODELS_PATH = "/var/lib/ollama"
"""Where the model volume is mounted; `HOME` (Ollama's key pair) and `OLLAMA_MODELS` live below it."""

RUN_AS_USER = 10001
"""The non-root user and group the Ollama containers run as (above 10000, clear of host users)."""
