"""Process settings, read once from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.email.poller import PollerOptions

SHIPPED_POLICIES = Path(__file__).resolve().parents[1] / "deploy" / "policies"  # the repository's tenants
_REPO_TOPICS = Path(__file__).resolve().parents[1] / "deploy" / "topics.yaml"
SHIPPED_SINKS = Path(__file__).resolve().parents[1] / "deploy" / "sinks"  # per-tenant sink files


class Settings(BaseSettings):
    """OMNIROUTE_* variables, plus the conventional KAFKA_BOOTSTRAP_SERVERS and REDIS_URL."""

    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    # more policy folders, a path list like PATH (':'-separated), combined with the shipped folder; a tenant
    # defined in two files is an error naming both
    policy_path: str = Field(default="", validation_alias=AliasChoices("OMNIROUTE_POLICY_DIR", "OMNIROUTE_POLICY_PATH"))
    shipped_policies: bool = True  # OMNIROUTE_SHIPPED_POLICIES=false: only the folders of OMNIROUTE_POLICY_DIR
    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "OMNIROUTE_KAFKA_BOOTSTRAP_SERVERS"))
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "OMNIROUTE_REDIS_URL"))
    redis_prefix: str = "omniroute"
    api_token: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    fetch_max_wait_ms: int = 100
    graph_api_base: str = "https://graph.facebook.com/v21.0"  # Meta's Graph API (WhatsApp, Messenger, Instagram)
    tiktok_api_base: str = "https://business-api.tiktok.com/open_api/v1.3"
    slack_api_base: str = "https://slack.com/api/"  # Slack's Web API (the Slack sink)
    sinks_dir: Path = SHIPPED_SINKS  # the tenants' sink files, <tenant>.yaml
    content_dir: Path = Path.home() / ".cache" / "omniroute" / "content"  # attachments, by sha256 (local disk)
    mail_max_bytes: int = PollerOptions.max_message_bytes  # larger mail is not downloaded (dead-lettered)
    attachment_max_bytes: int = 25 * 2**20  # a larger attachment is not kept; the message says so
    kafka_ack_timeout_s: float = 5.0  # the ingress answers 503 + Retry-After when Kafka has not acknowledged by then
    chat_demo: bool = False  # serve /chat/{tenant}/ and accept the gateway's own origin (`omniroute dev` sets it)
    chat_auth_timeout_s: float = 10.0  # a chat WebSocket must send its auth frame within this
    csat_answer_window_h: float = 72.0  # a CSAT survey's 1–5 answer counts as a rating for this long after it is sent
    state_file: Path = Path.home() / ".cache" / "omniroute" / "dev-stack.json"
    run_dir: Path = Path.home() / ".cache" / "omniroute" / "run"
    # Deployment: topics, production Kafka, logs, the workers' health/metrics port (meanings: workers/settings_doc.py)
    topics_file: Path = _REPO_TOPICS
    kafka_broker: Literal["auto", "embedded", "kafka"] = "auto"
    kafka_client_id: str = "omniroute"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_rack: str | None = None
    kafka_idempotence: Literal["auto", "on", "off"] = "auto"
    # consumer groups: how soon a vanished member's partitions move (takeover), and aiokafka's request bound
    kafka_session_timeout_ms: int = 10_000
    kafka_request_timeout_ms: int = 40_000
    # static membership (KIP-345), typically the pod name; Apache Kafka only (ignored on the embedded broker)
    group_instance_id: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    log_pii: bool = False
    health_host: str = "127.0.0.1"
    health_port: int = 0  # 0: a free port, printed at start (several local replicas never collide)

    @property
    def policy_dirs(self) -> list[Path]:
        """The policy folders to load, in order: the shipped one (unless left out), then OMNIROUTE_POLICY_DIR's."""
        extra = [Path(part).expanduser() for part in self.policy_path.split(os.pathsep) if part.strip()]
        return ([SHIPPED_POLICIES] if self.shipped_policies else []) + extra
