"""Who may do what on truyvet's cluster: one principal per role, each with only the ACLs its
processes need (Kafka's ``StandardAuthorizer``, ``allow.everyone.if.no.acl.found=false``):

- ``scanner`` writes check-ins, heartbeats and headcounts -- and nothing else: it cannot read
  a scan back, nor forge an alert, a visit or a result;
- ``worker`` (the stream jobs) reads its inputs and writes its outputs, in its consumer groups;
- ``api`` reads the views it serves and writes what the API records (itineraries, results,
  gaps, the audit trail, inspections, campaigns and an inspection's headcount), in the
  replicas' group ``<prefix>-api``;
- ``admin`` (a super user) makes the topics, the users and these ACLs.

Every principal may *describe* truyvet's topics and groups (metadata and offsets, never data):
the lag figures and the topic checks at start need that. :func:`provision` makes the users
(SASL/SCRAM-SHA-512, through the admin API) and the ACLs, idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from truyvet import topics
from truyvet.kafka.admin import admin_client
from truyvet.settings import Settings

ROLES = ("scanner", "worker", "api")
SCRAM_ITERATIONS = 8192


@dataclass(frozen=True)
class Grant:
    resource: str  # topic | group
    name: str  # a topic, or a name prefix when ``prefixed``
    operation: str  # READ | WRITE | DESCRIBE
    prefixed: bool = False


def grants(s: Settings, role: str) -> list[Grant]:
    """The ACLs of one role, for this deployment's topic prefix."""
    scanned = [topics.checkins(s), topics.heartbeats(s), topics.headcounts(s)]
    if role == "scanner":
        return [Grant("topic", t, op) for t in scanned for op in ("WRITE", "DESCRIBE")]
    if role == "worker":
        reads = [*scanned, topics.gaps(s), topics.scans_by_card(s), topics.venues(s),
                 topics.deadletter(s), topics.control(s)]
        writes = [topics.scans_by_card(s), topics.visits(s), topics.compliance(s),
                  topics.alerts(s), topics.deadletter(s)]
    elif role == "api":
        reads = [topics.visits(s), topics.itineraries(s), topics.match_results(s),
                 topics.clusters(s), topics.followups(s), topics.compliance(s), topics.alerts(s),
                 topics.inspections(s), topics.campaigns(s), topics.venues(s)]
        # alerts: a cluster's (the compliance job raises the venues')
        writes = [topics.itineraries(s), topics.match_results(s), topics.clusters(s),
                  topics.followups(s),
                  topics.alerts(s), topics.gaps(s), topics.audit(s), topics.inspections(s),
                  topics.campaigns(s), topics.headcounts(s)]
    else:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    out = [Grant("topic", t, "READ") for t in reads] + [Grant("topic", t, "WRITE") for t in writes]
    out += [Grant("topic", f"{s.topic_prefix}.", "DESCRIBE", prefixed=True),
            Grant("group", f"{s.topic_prefix}-", "READ" if role == "worker" else "DESCRIBE",
                  prefixed=True)]
    if role == "api":  # the replicas' group: which replica re-matches which cases
        out.append(Grant("group", f"{s.topic_prefix}-api", "READ"))
    return out


def user_of(s: Settings, role: str) -> str:
    """The principal's name: the role, within this deployment's prefix."""
    return f"{s.topic_prefix}-{role}"


def bindings(s: Settings, role: str) -> list[AclBinding]:
    principal = f"User:{user_of(s, role)}"
    return [AclBinding(ResourceType.TOPIC if g.resource == "topic" else ResourceType.GROUP,
                       g.name, ResourcePatternType.PREFIXED if g.prefixed
                       else ResourcePatternType.LITERAL, principal, "*",
                       AclOperation[g.operation], AclPermissionType.ALLOW)
            for g in grants(s, role)]


def provision(admin_settings: Settings, passwords: dict[str, str], timeout: float = 30.0) -> None:
    """Make (or update) the SCRAM user of every role in ``passwords`` and its ACLs, as the
    admin principal of ``admin_settings``."""
    admin = admin_client(admin_settings)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    users = [UserScramCredentialUpsertion(user_of(admin_settings, role), info, pw.encode())
             for role, pw in passwords.items()]
    for future in admin.alter_user_scram_credentials(users, request_timeout=timeout).values():
        future.result()
    acls = [b for role in passwords for b in bindings(admin_settings, role)]
    for future in admin.create_acls(acls, request_timeout=timeout).values():
        future.result()
