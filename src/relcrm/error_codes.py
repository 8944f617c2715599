"""Every error code relcrm defines, in one place: what it means, how a command exits
with it, and what a person should do about it.

Scripts, alerts and dashboards match on codes (``[sync.mapping_mismatch]`` in a message,
``error_code`` in a run report or a dead letter), so a code is a promise: it keeps its
meaning between releases and is listed here. ``tests/test_error_codes.py`` keeps this
catalogue complete: it reads every module of relcrm for the codes its errors and reports
carry, and fails on one that is missing here, on an entry whose code no module uses any
more, and on an exit code that differs from the error class's. ``docs/errors.md`` lists
the same codes for people.

An entry names the :class:`~relcrm.errors.RelcrmError` subclass that carries the code,
or ``"report"`` for a code only found on a run's report (``SyncReport.error_code``), and
the :class:`~relcrm.errors.ExitCode` a command ends with when it stops on that code.
Codes are ``area.name`` in lower case; the CRMs' own codes (``STRING_TOO_LONG``,
``INVALID_OPTION``...) are kept apart as ``vendor_code`` and are not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from relcrm.errors import ExitCode

REPORT: Final = "report"
"""The ``exception`` of a code that is only found on reports, never raised."""


@dataclass(frozen=True)
class CodeEntry:
    """One code: the class that carries it, its exit code, what it means, what to do."""

    code: str
    exception: str
    """The error class's name, or :data:`REPORT`."""
    exit_code: ExitCode
    meaning: str
    action: str

    @property
    def area(self) -> str:
        """The part before the dot: ``config``, ``sync``, ``connector``..."""
        return self.code.partition(".")[0]


_CONFIG = ExitCode.CONFIG
_CONNECT = ExitCode.CONNECT
_REJECTED = ExitCode.REJECTED

ENTRIES: Final[tuple[CodeEntry, ...]] = (
    # ------------------------------------------------------------------ config
    CodeEntry(
        "config.invalid",
        "ConfigurationError",
        _CONFIG,
        "settings, a mapping or a file cannot work as given; nothing was changed",
        "fix what the message names and run again",
    ),
    CodeEntry(
        "config.invalid_file",
        "InvalidFileError",
        _CONFIG,
        "a file an admin wrote cannot be used; the message names every bad key",
        "fix each key named and run again",
    ),
    CodeEntry(
        "config.invalid_mapping",
        "InvalidMappingError",
        _CONFIG,
        "a mapping file cannot be used; the message names every bad key",
        "fix the mapping (relcrm mapping schema gives its JSON Schema) and run again",
    ),
    CodeEntry(
        "config.invalid_survey_columns",
        "SurveyColumnsError",
        _CONFIG,
        "a survey export's column mapping cannot be used; the message names every bad key",
        "fix the column mapping and run again",
    ),
    CodeEntry(
        "config.invalid_targets",
        "ConfigurationError",
        _CONFIG,
        "the targets file cannot be read or is wrong: a secret in it, an unknown connector "
        "or setting, a mapping that does not load, is for another connector or asks for "
        "what the connector cannot do",
        "fix the keys the message names; secrets go in the environment or a secrets file",
    ),
    CodeEntry(
        "config.unknown_target",
        "ConfigurationError",
        _CONFIG,
        "--target names no target of the targets file",
        "pass one of the names the message lists, or leave --target out for all",
    ),
    CodeEntry(
        "config.invalid_settings",
        "ConfigurationError",
        _CONFIG,
        "a target's settings, from the file and the environment together, do not validate",
        "check the target's settings and the RELCRM_<CONNECTOR>_* environment variables",
    ),
    CodeEntry(
        "config.unknown_connector",
        "ConfigurationError",
        _CONFIG,
        "no installed connector has the name a target gives",
        "check the target's connector name, or install the package that provides it",
    ),
    CodeEntry(
        "config.bad_connector_entry_point",
        "ConfigurationError",
        _CONFIG,
        "a relcrm.connectors entry point does not name a class",
        "fix or uninstall the package that declares it",
    ),
    CodeEntry(
        "config.unsupported_connector",
        "ConfigurationError",
        _CONFIG,
        "an installed connector does not implement the connector contract (no "
        "settings_class, declared_capabilities or from_settings, a missing method, "
        "from_settings returned no connector, or a feature its capabilities declare "
        "without its protocol: support_cases without read_cases, history_notes without "
        "add_perception_notes)",
        "ask the connector's authors for a version that implements relcrm.connectors.Connector",
    ),
    CodeEntry(
        "config.unsupported_mapping",
        "ConfigurationError",
        _CONFIG,
        "a mapping asks for what its connector declares it cannot do (match.fallback "
        "objects where fallback_matching is false, an object or a match key the connector "
        "does not support); refused before any run",
        "change the mapping as the message says, or use a connector that can",
    ),
    CodeEntry(
        "config.unknown_mapping",
        "ConfigurationError",
        _CONFIG,
        "no shipped mapping has the name given",
        "use one of the shipped names the message lists, or load your own mapping file",
    ),
    CodeEntry(
        "config.lease_timing",
        "ConfigurationError",
        _CONFIG,
        "RELCRM_LEASE_HEARTBEAT_S is not less than RELCRM_LEASE_TTL_S",
        "set the heartbeat to a third of the ttl or less",
    ),
    CodeEntry(
        "config.bad_limit",
        "ConfigurationError",
        _CONFIG,
        "--max-unmatched or --max-rejected is neither a count nor a percentage up to 100%",
        "give a count (25) or a percentage (5%)",
    ),
    CodeEntry(
        "config.redaction",
        "ConfigurationError",
        _CONFIG,
        "the redaction settings file cannot be read, or has bad keys",
        "fix the keys named; leave a key out to keep its default",
    ),
    CodeEntry(
        "config.unknown_analyzer",
        "ConfigurationError",
        _CONFIG,
        "no installed analyzer has the name given",
        "use an installed analyzer's name, or install the package that provides it",
    ),
    CodeEntry(
        "config.bad_analyzer_entry_point",
        "ConfigurationError",
        _CONFIG,
        "a relcrm.analyzers entry point names no analyzer (name, version and analyze())",
        "fix or uninstall the package that declares it",
    ),
    CodeEntry(
        "config.analyzer_model_mismatch",
        "ConfigurationError",
        _CONFIG,
        "the analyzer model was trained on another features version than relcrm extracts",
        "retrain it with tools/train_analyzer.py, or reinstall relcrm",
    ),
    CodeEntry(
        "config.analyzer_model_missing",
        "ConfigurationError",
        _CONFIG,
        "the shipped analyzer model is missing from the installed package",
        "reinstall relcrm, or train the model with tools/train_analyzer.py",
    ),
    # ------------------------------------------------------------------ input
    CodeEntry(
        "input.invalid",
        "InputError",
        _CONFIG,
        "data from a source cannot be used as it is",
        "correct the source data and ingest it again",
    ),
    CodeEntry(
        "input.invalid_record",
        "InvalidRecordError",
        _CONFIG,
        "one record (a line, a row) is invalid; every bad field is named, the rest goes on",
        "correct the record at its source and ingest it again",
    ),
    # ------------------------------------------------------------------ profile
    CodeEntry(
        "profile.naive_clock",
        "InputError",
        _CONFIG,
        "the profile engine was given a time without a time zone as its clock",
        "pass an aware datetime, e.g. datetime.now(timezone.utc)",
    ),
    CodeEntry(
        "profile.engine_unavailable",
        "ConfigurationError",
        _CONFIG,
        "the columnar profile engine was asked for but DuckDB is not installed",
        "pip install 'relcrm[columnar]', or use --engine reference",
    ),
    CodeEntry(
        "profile.spark_unavailable",
        "ConfigurationError",
        _CONFIG,
        "the Spark profile engine was asked for but PySpark, SQLGlot or a Java runtime is "
        "missing, or the JVM did not start",
        "pip install 'relcrm[spark]' and a Java 17 runtime (Debian: openjdk-17-jre-headless), "
        "or use --engine duckdb",
    ),
    CodeEntry(
        "profile.input_invalid",
        "InputError",
        _CONFIG,
        "the Spark engine's input (Parquet or table) lacks a column of the recipe's inputs, "
        "or a profiles table to import cannot be read",
        "write the columns of relcrm.profile.columnar.inputs (PERSON_COLUMNS, "
        "PERCEPTION_COLUMNS); import the Parquet that --out or the Spark job wrote",
    ),
    CodeEntry(
        "profile.transpile_failed",
        "ConfigurationError",
        _CONFIG,
        "the profile recipe cannot be written in the SQL dialect asked for",
        "use a dialect relcrm knows (spark, databricks), with the as-of as microseconds",
    ),
    # ------------------------------------------------------------------ store
    CodeEntry(
        "store.error",
        "StoreError",
        _CONFIG,
        "the state store cannot be opened, read or written (bad URL, missing driver, "
        "server out of reach, store closed)",
        "check the store URL and that the file or server is reachable",
    ),
    CodeEntry(
        "store.not_found",
        "StoreError",
        _CONFIG,
        "the SQLite store a command reads does not exist",
        "load data first (relcrm ingest FILE), or name the store: --store, the targets "
        "file's [store], RELCRM_STORE_URL",
    ),
    CodeEntry(
        "store.segments_corrupt",
        "StoreError",
        _CONFIG,
        "the manifest of the store's perception segments cannot be read",
        "restore the segments folder from a backup of the store",
    ),
    CodeEntry(
        "store.segments_folder_in_use",
        "StoreError",
        _CONFIG,
        "the folder named for a store's perception segments already holds segments that "
        "this store did not leave there",
        "name an empty folder (each store keeps its own), or move the other store's segments away",
    ),
    CodeEntry(
        "store.segments_unavailable",
        "StoreError",
        _CONFIG,
        "the store keeps perceptions in Parquet segments, which need DuckDB, and DuckDB "
        "is not installed (or the segments folder cannot be reached)",
        "pip install 'relcrm[columnar]'; check that the segments folder the store names "
        "exists on this machine",
    ),
    CodeEntry(
        "store.schema_too_new",
        "SchemaVersionError",
        _CONFIG,
        "the store was written by a newer relcrm; nothing was written to it",
        "upgrade relcrm, or point it at another store",
    ),
    # ------------------------------------------------------------------ run
    CodeEntry(
        "run.error",
        "RunError",
        _CONFIG,
        "a sync run could not go on as a run (the root of the run errors)",
        "run again later",
    ),
    CodeEntry(
        "run.target_busy",
        "TargetBusyError",
        ExitCode.BUSY,
        "another live run holds the target's lease; nothing was written",
        "wait for the other run (relcrm sync --wait SECONDS), or run again later",
    ),
    CodeEntry(
        "run.lease_lost",
        "LeaseLostError",
        ExitCode.BUSY,
        "this run stalled past its lease and another run took the target; this one "
        "stopped before its next batch",
        "nothing to redo (the other run carries on); find out why this one stalled",
    ),
    # ------------------------------------------------------------------ sync
    CodeEntry(
        "sync.mapping_mismatch",
        "MappingMismatchError",
        _CONFIG,
        "the mapping does not fit the CRM (a field missing, hidden or of the wrong "
        "type); found before anything was written",
        "run relcrm mapping check, fix the mapping or run relcrm fields apply, run again",
    ),
    CodeEntry(
        "sync.nobody_matched",
        REPORT,
        ExitCode.REJECTED,
        "a run had persons to write but none matched a CRM record; it ended partial",
        "check the mapping's object and [match] keys, and relcrm unmatched",
    ),
    CodeEntry(
        "sync.bad_limit",
        "ConfigurationError",
        _CONFIG,
        "--limit is less than 1",
        "give --limit 1 or more, or leave it out",
    ),
    CodeEntry(
        "sync.bad_batch_size",
        "ConfigurationError",
        _CONFIG,
        "the batch size is less than 1",
        "give --batch-size 1 or more, or leave it out for the connector's largest",
    ),
    CodeEntry(
        "sync.bad_partitions",
        "ConfigurationError",
        _CONFIG,
        "--partitions is outside the range the message names",
        "give a partition count within that range",
    ),
    CodeEntry(
        "sync.limit_with_partitions",
        "ConfigurationError",
        _CONFIG,
        "--limit was combined with --partitions (each worker would count its own)",
        "leave out one of the two",
    ),
    CodeEntry(
        "sync.partitions_mismatch",
        "ConfigurationError",
        _CONFIG,
        "a worker joined a shared run with another --partitions than the run was split into",
        "start every worker of the target with the --partitions the message names",
    ),
    CodeEntry(
        "sync.unmapped_field",
        "ConfigurationError",
        _CONFIG,
        "a batch was about to write fields outside the mapping (a bug); it was refused",
        "report it as a bug, with the field names from the message",
    ),
    CodeEntry(
        "sync.unknown_person",
        "PreviewUnknownPersonError",
        _CONFIG,
        "relcrm mapping preview was given a person id the store does not hold; the other "
        "ids were previewed",
        "check the id (relcrm profile lists the persons) or ingest the person first",
    ),
    # ------------------------------------------------------------------ push
    CodeEntry(
        "push.profile_without_person",
        "ConfigurationError",
        _CONFIG,
        "profiles were pushed without their Person, whose consent decides the write",
        "pass each profile's Person along with it",
    ),
    # ------------------------------------------------------------------ forget
    CodeEntry(
        "forget.unknown_identity",
        "UnknownPersonError",
        _CONFIG,
        "no stored person has the identity given (or several do, for a CRM record)",
        "check the spelling and the kind of identity; relcrm audit lists past erasures",
    ),
    CodeEntry(
        "forget.unknown_identity_kind",
        "ConfigurationError",
        _CONFIG,
        "the kind of identity cannot be told from its shape, or --kind is not a known kind",
        "give an email, a phone, platform:handle, system/object/id, or say which with --kind",
    ),
    CodeEntry(
        "forget.no_identity",
        "ConfigurationError",
        _CONFIG,
        "relcrm forget was given neither or both of IDENTITY and --person-id",
        "give exactly one of them",
    ),
    CodeEntry(
        "forget.no_config",
        "ConfigurationError",
        _CONFIG,
        "relcrm forget has no targets file to clear relcrm's fields in the CRMs with",
        "pass --config FILE, or --store-only to erase only the store",
    ),
    # ------------------------------------------------------------------ init
    CodeEntry(
        "init.file_exists",
        "ConfigurationError",
        _CONFIG,
        "relcrm init would overwrite an existing file; it was left as it is",
        "pass --force to overwrite it, or --out another file",
    ),
    CodeEntry(
        "init.cannot_write",
        "ConfigurationError",
        _CONFIG,
        "relcrm init cannot write its file",
        "choose a path relcrm may write to",
    ),
    # ------------------------------------------------------------------ sandbox
    CodeEntry(
        "sandbox.port_unavailable",
        "PortUnavailableError",
        _CONFIG,
        "the sandbox cannot listen on the port asked for (in use, or not allowed)",
        "choose another --port, or leave --port out to get a free one",
    ),
    CodeEntry(
        "sandbox.config_exists",
        "ConfigurationError",
        _CONFIG,
        "--write-config would overwrite a targets file no sandbox wrote",
        "give --write-config another folder, or move that file away",
    ),
    CodeEntry(
        "sandbox.config_unwritable",
        "ConfigurationError",
        _CONFIG,
        "the sandbox's configuration cannot be written into the --write-config folder",
        "give --write-config a folder relcrm may write to",
    ),
    CodeEntry(
        "sandbox.bad_contacts",
        "ConfigurationError",
        _CONFIG,
        "no person could be read from the --contacts file",
        "give an interchange file, e.g. one written by relcrm sample",
    ),
    CodeEntry(
        "sandbox.no_such_file",
        "ConfigurationError",
        _CONFIG,
        "a file option of relcrm sandbox (--contacts, --faults) names no file",
        "check the path",
    ),
    CodeEntry(
        "sandbox.bad_fault_plan",
        "ConfigurationError",
        _CONFIG,
        "--faults names a file that is not a fault plan",
        "fix the plan (docs/sandboxes.md, Fault plans)",
    ),
    CodeEntry(
        "sandbox.bad_rate_limit",
        "ConfigurationError",
        _CONFIG,
        "--rate-limit of the HubSpot sandbox cannot be read",
        "give COUNT/SECONDSs, e.g. 100/10s",
    ),
    # ------------------------------------------------------------------ metrics
    CodeEntry(
        "metrics.failed",
        "MetricsError",
        _CONFIG,
        "a run's figures could not be delivered (the root of the metrics errors)",
        "see the message; the run itself and its report are not affected",
    ),
    CodeEntry(
        "metrics.file_not_written",
        "MetricsFileError",
        _CONFIG,
        "the textfile-collector file could not be written; the run is not affected",
        "check that the directory exists and relcrm may write to it",
    ),
    CodeEntry(
        "metrics.push_failed",
        "MetricsPushError",
        _CONNECT,
        "the Pushgateway could not be reached or refused the push; the run is not affected",
        "check the Pushgateway URL and that it is up",
    ),
    # ------------------------------------------------------------------ connector
    CodeEntry(
        "connector.error",
        "ConnectorError",
        _CONNECT,
        "talking to a CRM failed (the root of the connector errors)",
        "read the message; the more specific codes below say whether to retry or fix",
    ),
    CodeEntry(
        "connector.transient",
        "TransientError",
        _CONNECT,
        "the CRM or the network failed in a way that may pass (5xx, dropped connection, "
        "timeout) and the retry policy gave up",
        "run again later: the run resumes where it stopped",
    ),
    CodeEntry(
        "connector.connection_failed",
        "ConnectionFailed",
        _CONNECT,
        "the CRM cannot be reached securely: its TLS certificate is not trusted, or its "
        "URL is not valid",
        "check the CRM's URL and the CA file the connector trusts",
    ),
    CodeEntry(
        "connector.session_expired",
        "SessionExpired",
        _CONNECT,
        "the access token expired and could not be renewed",
        "log in again (the connector normally does this by itself)",
    ),
    CodeEntry(
        "connector.quota_exhausted",
        "QuotaExhausted",
        ExitCode.QUOTA,
        "the CRM's request quota (e.g. Salesforce's daily API budget) is spent; the run paused",
        "run again once the quota resets: the run resumes",
    ),
    CodeEntry(
        "connector.authentication_failed",
        "AuthenticationFailed",
        _CONNECT,
        "the CRM refused the credentials (wrong, revoked, incomplete, or a session id "
        "that cannot be refreshed)",
        "check the connector's credentials in the environment or the secrets file",
    ),
    CodeEntry(
        "connector.permission_denied",
        "PermissionDenied",
        _CONNECT,
        "the integration user lacks a permission the operation needs",
        "grant the integration user the missing permission and run again",
    ),
    CodeEntry(
        "connector.request_rejected",
        "RequestRejected",
        _CONFIG,
        "the CRM refused a whole request as malformed (not one record's data); retrying "
        "the same request cannot help",
        "report it as a bug in the connector or the mapping, with the message",
    ),
    CodeEntry(
        "connector.invalid_value",
        "ValueFormatError",
        _REJECTED,
        "a value cannot be expressed for its HubSpot property; the record is rejected "
        "(INVALID_VALUE) and the others are written",
        "fix the mapping or the value",
    ),
    CodeEntry(
        "connector.not_external_id",
        "ConfigurationError",
        _CONFIG,
        "an upsert was keyed by a field Salesforce does not take as a key: match.by is "
        "not an External ID field of the object (or the integration user cannot see it); "
        "nothing was written",
        "mark the field External ID in Setup or set match.by to one that is; relcrm "
        "mapping check shows it",
    ),
    # ------------------------------------------------------------------ zoho
    CodeEntry(
        "zoho.credentials_missing",
        "ConfigurationError",
        _CONFIG,
        "the Zoho connector lacks a client id, client secret or refresh token",
        "set RELCRM_ZOHO_CLIENT_ID, RELCRM_ZOHO_CLIENT_SECRET and RELCRM_ZOHO_REFRESH_TOKEN "
        "(scopes ZohoCRM.modules.ALL, ZohoCRM.settings.fields.ALL)",
    ),
    CodeEntry(
        "zoho.field_unsupported",
        "ConfigurationError",
        _CONFIG,
        "a mapped field cannot be a Zoho custom field (its API name, a label over 25 "
        "characters, or text over 255)",
        "fix the mapping as the message says",
    ),
    # ------------------------------------------------------------------ voice
    CodeEntry(
        "voice.invalid_settings",
        "VoiceSettingsError",
        _CONFIG,
        "the feedback page's settings cannot work: no signing key in RELCRM_VOICE_KEYS, a "
        "key under 32 characters, a bad duration or base URL",
        "set RELCRM_VOICE_KEYS (random keys of 32+ characters, newest first) and fix the "
        "setting the message names",
    ),
    CodeEntry(
        "voice.unknown_person",
        "StoreError",
        _CONFIG,
        "relcrm voice link was given a person id the store does not hold",
        "check the id (relcrm profile lists the persons) or ingest the person first",
    ),
    CodeEntry(
        "voice.gone",
        "StoreError",
        _CONFIG,
        "an answer arrived for a link whose person was erased since the page opened; "
        "nothing was recorded",
        "nothing: the person asked to be forgotten",
    ),
    CodeEntry(
        "voice.answer_refused",
        "StoreError",
        _CONFIG,
        "the ingest refused the page's answer (the person was forgotten, or the answer "
        "was invalid); the link can answer again",
        "read the message; a forgotten person comes back only by giving consent again",
    ),
    CodeEntry(
        "voice.invalid_link",
        "VoiceLinkError",
        _CONFIG,
        "a page request with a link that is malformed, badly signed, of another purpose, "
        "or no longer in the store (HTTP 404)",
        "nothing on the server; the customer uses the whole link, or asks for a new one",
    ),
    CodeEntry(
        "voice.expired_link",
        "VoiceLinkError",
        _CONFIG,
        "a page request with a link past its expiry (HTTP 410)",
        "issue a new link (relcrm voice link PERSON_ID)",
    ),
    CodeEntry(
        "voice.stale_form",
        "VoiceLinkError",
        _CONFIG,
        "a form sent without the token its page served, with a token of another link, or "
        "too late (HTTP 403)",
        "nothing; the customer opens the link again (RELCRM_VOICE_FORM_TTL sets how long "
        "a form lasts)",
    ),
    CodeEntry(
        "voice.already_answered",
        "VoiceLinkError",
        _CONFIG,
        "a second answer through a feedback link, which answers once (HTTP 409); "
        "preferences can still be changed",
        "nothing; issue a new link if another answer is wanted",
    ),
    CodeEntry(
        "voice.rate_limited",
        "VoiceLinkError",
        _CONFIG,
        "too many requests for one link or from one address in the window (HTTP 429, with "
        "Retry-After)",
        "nothing if it is abuse; raise RELCRM_VOICE_LINK_RATE or "
        "RELCRM_VOICE_ADDRESS_RATE if real visitors hit it (check --forwarded-allow-ips "
        "behind a proxy)",
    ),
    CodeEntry(
        "voice.bad_request",
        "VoiceLinkError",
        _CONFIG,
        "a form post the page cannot read: not url-encoded UTF-8, or over 32 KiB (HTTP "
        "400, 413 or 415)",
        "nothing; only the page's own form is accepted",
    ),
    # ------------------------------------------------------------------ report
    CodeEntry(
        "report.invalid_option",
        "ConfigurationError",
        _CONFIG,
        "relcrm report was given an option it cannot use: a --since that is not days or "
        "weeks, a --link that is not TARGET=http(s) URL with {object} and {id}, an --as-of "
        "without a time zone",
        "fix the option the message names and run again",
    ),
    CodeEntry(
        "report.write_failed",
        "ConfigurationError",
        _CONFIG,
        "the report's HTML file cannot be written (no such folder, no permission, disk full)",
        "choose another output path (--out, or --report in relcrm demo), in a folder that "
        "exists and you may write to",
    ),
    # ------------------------------------------------------------------ demo
    CodeEntry(
        "demo.org",
        "DemoOrgError",
        _CONNECT,
        "the demo's (or relcrm.testing's) own calls to a sandbox (seeding, reading back) failed",
        "run the demo again; if it persists, report it with the output",
    ),
    # ------------------------------------------------------------------ relcrm
    CodeEntry(
        "relcrm.error",
        "RelcrmError",
        _CONFIG,
        "an error without a more specific code (the root of every relcrm error)",
        "read the message and its hint; report it as a bug if they do not help",
    ),
)
"""Every code, grouped by area, in the order docs/errors.md lists them."""

CODES: Final[Mapping[str, CodeEntry]] = MappingProxyType({e.code: e for e in ENTRIES})
"""Each code to its entry."""


def describe(code: str) -> CodeEntry | None:
    """The entry for ``code`` (``"sync.mapping_mismatch"``), or None if relcrm has no such code."""
    return CODES.get(code)


def catalogue() -> tuple[CodeEntry, ...]:
    """Every entry, grouped by area."""
    return ENTRIES


__all__ = ["CODES", "ENTRIES", "REPORT", "CodeEntry", "catalogue", "describe"]
