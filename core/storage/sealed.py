"""Every encrypted column, and the place each of its values is bound to (core/kernel/crypto.py).

A value's place is its table, column and the columns that name its row, its owner included
(member or group), so a value copied into any other row fails to open. Only columns that never
change after the row is written go into a place.

Rows whose id the database would choose on INSERT get it chosen first, inside the same
transaction (`Database.next_id`): the value is sealed to that id before the row exists, and the
row appears whole, so a reader never meets a row without its value.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.kernel.crypto import Place


@dataclass(frozen=True)
class Sealed:
    table: str
    column: str
    # The columns naming a value's row (its owner last); their values make its Place.
    by: tuple[str, ...]
    # The purpose a value was bound to before places (format 1), for the move-over.
    legacy: str
    # Format 1 purposes that depended on the row: f"{legacy}.{row[legacy_by]}".
    legacy_by: str = ""
    # NOT NULL: a damaged value that must go takes its row with it.
    required: bool = False
    # The table's primary key: the key rotation walks the rows in its order (on any engine).
    key: tuple[str, ...] = ("id",)

    def at(self, *values: object) -> Place:
        if len(values) != len(self.by):
            raise ValueError(f"{self.table}.{self.column} is placed by {self.by}")
        return Place(self.table, self.column, tuple(zip(self.by, map(str, values), strict=True)))

    def legacy_purpose(self, row: dict[str, object]) -> str:
        return f"{self.legacy}.{row[self.legacy_by]}" if self.legacy_by else self.legacy


CHECKIN_NOTE = Sealed("checkins", "note", ("id", "member_id"), "checkin.note")
PART_NAME = Sealed("parts", "name", ("id", "member_id"), "part.name", required=True)
PART_NOTES = Sealed("parts", "notes", ("id", "member_id"), "part.notes")
PART_BODY = Sealed("parts", "body", ("id", "member_id"), "part.body")
PART_SAYS = Sealed("parts", "says", ("id", "member_id"), "part.says")
PART_PROTECTS = Sealed("parts", "protects", ("id", "member_id"), "part.protects")
SESSION_STATE = Sealed(
    "sessions", "state", ("member_id",), "session.state", required=True, key=("member_id",)
)
PLAN_SECTION = Sealed(
    "safety_plan_sections",
    "body",
    ("section", "member_id"),
    "safety_plan",
    legacy_by="section",
    required=True,
    key=("member_id", "section"),
)
COUNTER_NAME = Sealed(
    "day_counters", "name", ("id", "member_id"), "day_counter.name", required=True
)
SLIP_NOTE = Sealed("day_slips", "note", ("id", "member_id"), "day_slip.note")
SCHEDULE_PROMPT = Sealed("schedules", "prompt_text", ("id", "group_id"), "schedule.prompt_text")
SHARE_LINE = Sealed("shared_items", "line", ("id", "member_id"), "shared_item.line")
# Bound to where it is sent too: a payload moved to another chat's row is never sent there.
OUTBOX_PAYLOAD = Sealed(
    "outbox", "payload", ("id", "platform", "target"), "outbox.payload", required=True
)
AUDIT_NAME = Sealed("audit_log", "actor_name", ("id", "group_id"), "audit.actor_name")
AUDIT_OLD = Sealed("audit_log", "old_value", ("id", "group_id"), "audit.old_value")
AUDIT_NEW = Sealed("audit_log", "new_value", ("id", "group_id"), "audit.new_value")
GROUP_TERMS = Sealed(
    "group_safety", "terms", ("group_id",), "group_safety.terms", key=("group_id",)
)
GROUP_EXCLUSIONS = Sealed(
    "group_safety", "exclusions", ("group_id",), "group_safety.exclusions", key=("group_id",)
)
MEMBER_NAME = Sealed(
    "member_names", "name", ("member_id",), "member_name.name", required=True, key=("member_id",)
)

PART_NOTE_COLUMNS = {
    "notes": PART_NOTES,
    "body": PART_BODY,
    "says": PART_SAYS,
    "protects": PART_PROTECTS,
}

# Every encrypted column of the schema (a test fails when a BLOB column is missing here).
SEALED: tuple[Sealed, ...] = (
    CHECKIN_NOTE,
    PART_NAME,
    PART_NOTES,
    PART_BODY,
    PART_SAYS,
    PART_PROTECTS,
    SESSION_STATE,
    PLAN_SECTION,
    COUNTER_NAME,
    SLIP_NOTE,
    SCHEDULE_PROMPT,
    SHARE_LINE,
    OUTBOX_PAYLOAD,
    AUDIT_NAME,
    AUDIT_OLD,
    AUDIT_NEW,
    GROUP_TERMS,
    GROUP_EXCLUSIONS,
    MEMBER_NAME,
)

# The value that tells whether a keyring opens this database.
KEY_CHECK = Place("meta", "value", (("key", "key_check"),))
KEY_CHECK_TEXT = "unblend-key-check"
KEY_CHECK_LEGACY = "meta.key_check"
