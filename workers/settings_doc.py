"""What each setting means, and the README's settings table generated from `Settings` (a test keeps them equal)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices

from workers.settings import Settings

MEANINGS: dict[str, str] = {
    "policy_path": "more policy folders (`:`-separated, like PATH), combined with the shipped `deploy/policies`",
    "shipped_policies": "load the shipped `deploy/policies` too (false: only the folders of OMNIROUTE_POLICY_DIR)",
    "kafka_bootstrap_servers": "Kafka bootstrap servers; unset: `omniroute dev` starts the embedded broker, "
                               "workers join the running dev stack",
    "redis_url": "Redis URL; unset: 127.0.0.1:6379 if it answers, else a server started for the stack",
    "redis_prefix": "prefix of every Redis key (the dev stack on the embedded broker uses `<prefix>-dev`)",
    "api_token": "bearer token of the API channel and agents' actions; unset: those answer 503",
    "http_host": "address the HTTP ingress listens on",
    "http_port": "port of the HTTP ingress (`/healthz`, `/readyz`, `/metrics` included)",
    "fetch_max_wait_ms": "consumers' fetch wait; the embedded broker answers a waiting fetch only at its end",
    "chat_demo": "serve /chat/{tenant}/ demo pages and accept the gateway's own origin (omniroute dev sets it)",
    "chat_auth_timeout_s": "seconds a chat WebSocket has to send its auth frame",
    "csat_answer_window_h": "hours after a CSAT survey is sent during which the customer's 1–5 answer counts as a "
                            "rating (later, it is an ordinary message)",
    "graph_api_base": "Meta Graph API base URL (WhatsApp, Messenger, Instagram replies)",
    "tiktok_api_base": "TikTok Business API base URL (replies)",
    "slack_api_base": "Slack Web API base URL (the Slack sink's chat.postMessage / chat.update)",
    "sinks_dir": "the tenants' sink files (`<tenant>.yaml`: per-queue webhooks and Slack channels)",
    "content_dir": "the local-disk content store: attachments' bytes under `<sha256[:2]>/<sha256>`, written before "
                   "the message is published; messages carry the file's `uri` and `sha256`, never the bytes",
    "mail_max_bytes": "mail larger than this (as the IMAP server counts it) is not downloaded; it goes to "
                      "`support.deadletter.v1` with its size",
    "attachment_max_bytes": "an attachment larger than this (decoded) is not kept: the message keeps its "
                            "metadata and says why in `dropped`; the mail is taken in",
    "kafka_ack_timeout_s": "the ingress answers 503 + Retry-After when Kafka has not acknowledged by then",
    "state_file": "where `omniroute dev` says what runs where (other commands find the stack through it)",
    "run_dir": "logs and data of the processes `omniroute dev` starts",
    "topics_file": "topic definitions: partitions, replication, retention (`omniroute topics plan`, `apply`)",
    "kafka_broker": "`auto` asks the cluster; `embedded` applies the Tansu patches; `kafka` never does",
    "kafka_client_id": "client id prefix; each role adds its name (`omniroute-route`, `omniroute-ingress`, ...)",
    "kafka_security_protocol": "`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`",
    "kafka_sasl_mechanism": "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`",
    "kafka_sasl_username": "SASL user (required with a SASL protocol)",
    "kafka_sasl_password": "SASL password, from a Secret (required with a SASL protocol)",
    "kafka_ssl_cafile": "CA bundle that signed the brokers' certificates (SSL protocols)",
    "kafka_ssl_certfile": "client certificate for mutual TLS (optional)",
    "kafka_ssl_keyfile": "client key for mutual TLS (optional)",
    "kafka_rack": "this pod's rack or zone: consumers fetch from the nearest replica (KIP-392)",
    "kafka_idempotence": "idempotent producer: `auto` = on for Apache Kafka, off on the embedded broker "
                         "(which refuses it); acks=all always",
    "kafka_session_timeout_ms": "consumer groups' session timeout: a replica that vanished without leaving "
                                "(SIGKILL, lost node) gives up its partitions after this; the embedded broker "
                                "holds a JoinGroup for half of it",
    "kafka_request_timeout_ms": "aiokafka's request timeout (workers retry after it); keep it above the session "
                                "timeout",
    "group_instance_id": "static group membership (KIP-345), e.g. the pod name: a restarted replica takes its "
                         "partitions back without a rebalance; Apache Kafka only, ignored on the embedded broker",
    "log_format": "`auto`: readable on a terminal, JSON otherwise; or force `json` / `console`",
    "log_level": "level of the `omniroute` loggers (one info line per routing decision)",
    "log_pii": "`true` shows addresses, phone numbers and message text in logs (redacted by default)",
    "health_host": "address the workers' `/healthz`, `/readyz`, `/metrics` server listens on",
    "health_port": "port of that server (0: a free port, printed at start)",
}


def env_name(field: str) -> str:
    """The environment variable that sets `field` (the conventional name where one is accepted first)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def _default(field: str) -> str:
    info = Settings.model_fields[field]
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, Path):
        home, repo = Path.home(), Path(__file__).resolve().parents[1]
        if value.is_relative_to(repo):
            return f"`{value.relative_to(repo)}`"
        if value.is_relative_to(home):
            return f"`~/{value.relative_to(home)}`"
    return f"`{value}`"


def settings_table() -> str:
    """The markdown table of every setting: variable, default, meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{env_name(f)}` | {_default(f)} | {MEANINGS[f]} |" for f in Settings.model_fields]
    return "\n".join(rows)
