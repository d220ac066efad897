"""All user-facing text, loaded from content/ by locale, with English as the fallback."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.kernel.flows.schema import MAX_TEXT, Condition, Flow, _cond, parse_flow
from core.kernel.problems import ContentError, Problems

FALLBACK_LOCALE = "en"
# A locale folder's name: a language code, then any region or script ("es", "pt-br", "es-419").
LOCALE_FOLDER = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")

# The contract between code and content: every key the code uses, with its placeholders.
REQUIRED_MESSAGES: dict[str, frozenset[str]] = {
    key: frozenset(fields.split()) if fields else frozenset()
    for key, fields in {
        "welcome.again": "",
        "console.banner": "",
        "help.text": "",
        "nav.stop": "",
        "nav.back": "",
        "nav.skip": "",
        "nav.continue": "",
        "flow.stopped": "",
        "flow.stopped_nothing": "",
        "flow.stale": "",
        "flow.at_start": "",
        "flow.expired": "",
        "flow.replaced": "title",
        "flow.nothing_active": "",
        "flow.no_session_button": "",
        "input.empty": "",
        "input.too_long": "limit got",
        "input.not_in_scale": "min max",
        "input.not_an_option": "",
        "input.unknown_command": "command",
        "input.idle_text": "",
        "consent.saved_yes": "",
        "consent.saved_no": "",
        "consent.status_yes": "when",
        "consent.status_no": "",
        "consent.keep": "",
        "consent.dont_keep": "",
        "checkin.saved": "",
        "checkin.not_saved": "",
        "checkin.offer_ground": "",
        "checkin.offer_history": "",
        "checkin.closing": "",
        "history.none": "",
        "history.not_kept": "",
        "history.window": "days count mood urge",
        "history.window_empty": "days",
        "history.sparkline": "line",
        "history.insight": "threshold parts",
        "history.insight_more": "needed",
        "history.insight_none": "threshold",
        "history.chart_title": "",
        "history.chart_mood": "",
        "history.chart_urge": "",
        "history.chart_slip": "",
        "history.chart_grounding": "",
        "history.chart_alt": "",
        "crisis.intro": "",
        "crisis.resources_heading": "country",
        "crisis.emergency": "number",
        "crisis.ask_safe": "",
        "crisis.safe_yes": "",
        "crisis.safe_no": "",
        "crisis.misunderstood": "",
        "crisis.reply_safe": "",
        "crisis.reply_not_safe": "",
        "crisis.reply_misunderstood": "",
        "crisis.resume": "",
        "concern.note": "",
        # crisis detection (issue 15): someone else in danger now; the learned layer's gentle
        # private check for a member in a screened group
        "crisis.other_intro": "number",
        "crisis.other_steps": "",
        "screening.gentle_check": "",
        "error.internal": "",
        # groups and the command menu (issue 4: Telegram adapter)
        "groups.private_link": "command",
        "groups.open_button": "",
        "groups.crisis_start": "",
        "groups.start_bot": "",
        "commands.checkin": "",
        "commands.ground": "",
        "commands.history": "",
        "commands.consent": "",
        "commands.crisis": "",
        "commands.help": "",
        "commands.start": "",
        # Discord adapter (issue 5)
        "discord.write_button": "",
        "discord.modal_title": "",
        "discord.modal_label": "",
        "discord.more_choices": "",
        "discord.no_description": "",
        "discord.moved_to_dm": "",
        "discord.dm_closed": "",
        "discord.not_moderator": "",
        "discord.option.exercise": "",
        "discord.option.part": "",
        "discord.option.add_part": "",
        "discord.option.talk": "",
        "discord.option.add_counter": "",
        "discord.option.slip": "",
        "discord.option.text": "",
        "discord.option.timezone": "",
        # Discord group check-ins (issue 6): slash options, subcommands, the day's thread
        "discord.option.schedule_time": "",
        "discord.option.schedule_timezone": "",
        "discord.option.schedule_days": "",
        "discord.option.schedule_channel": "",
        "discord.option.schedule_prompt": "",
        "discord.option.schedule_number": "",
        "discord.option.schedule_date": "",
        "discord.option.holiday_action": "",
        "discord.option.setting": "",
        "discord.option.setting_value": "",
        "discord.option.setting_channel": "",
        "discord.option.remind_time": "",
        "discord.option.quiet_days": "",
        "discord.command.schedule": "",
        "discord.command.group": "",
        "discord.sub.schedule_add": "",
        "discord.sub.schedule_list": "",
        "discord.sub.schedule_preview": "",
        "discord.sub.schedule_pause": "",
        "discord.sub.schedule_resume": "",
        "discord.sub.schedule_remove": "",
        "discord.sub.schedule_skip": "",
        "discord.sub.schedule_holiday": "",
        "discord.sub.schedule_holidays": "",
        "discord.sub.group_settings": "",
        "discord.sub.remind_show": "",
        "discord.sub.remind_set": "",
        "discord.sub.remind_pause": "",
        "discord.sub.remind_resume": "",
        "discord.sub.remind_quiet": "",
        "discord.sub.remind_off": "",
        "discord.choice.holiday_add": "",
        "discord.choice.holiday_remove": "",
        "discord.groups.thread_name": "",
        # privacy, export, forget, country, crisis follow-up (issue 7)
        "privacy.summary": "days contact",
        "privacy.contact_default": "",
        "commands.privacy": "",
        "privacy.export_ready": "",
        "privacy.export_csv": "count",
        "privacy.export_nothing": "",
        "commands.export": "",
        "privacy.forget_confirm": "",
        "privacy.forget_yes": "",
        "privacy.forget_no": "",
        "privacy.forget_kept": "",
        "privacy.forgotten": "",
        "privacy.forget_nothing": "",
        # /forget and group data (issue 7, brief H4)
        "privacy.forget_groups_deleted": "count",
        "privacy.forget_groups_too_old": "count hours",
        "privacy.forget_groups_failed": "count",
        # the moderators' audit log: /group audit (issue 7, brief H4)
        "audit.head": "count tz",
        "audit.empty": "",
        "audit.line": "what when who",
        "audit.former_member": "",
        "audit.member": "id",
        "audit.none": "",
        "audit.not_moderator": "",
        "audit.start_bot": "",
        "audit.action.schedule_add": "new subject",
        "audit.action.schedule_pause": "subject",
        "audit.action.schedule_resume": "subject",
        "audit.action.schedule_skip": "new subject",
        "audit.action.schedule_remove": "old subject",
        "audit.action.holiday_add": "new",
        "audit.action.holiday_remove": "old",
        "audit.action.setting": "new old subject",
        "audit.action.unknown": "new old subject",
        "commands.forget": "",
        "country.ask": "country",
        "country.elsewhere": "",
        "country.saved": "country",
        "country.unknown": "",
        "commands.country": "",
        "support.offer": "",
        "support.ask": "",
        "support.plain": "",
        "support.with_words": "",
        "support.no": "",
        "support.not_told": "",
        "support.told": "",
        "support.no_moderator": "",
        "support.words_gone": "",
        "support.moderator_note": "handle",
        "support.moderator_words": "words",
        "limits.slow_down": "",
        "limits.args_too_long": "limit words",
        # reach-outs, /volunteer, gone channels (issue 6: reachout)
        "reach.request": "name",
        "reach.request_line": "line",
        "reach.request_volunteer": "",
        "reach.request_mods": "",
        "reach.ack_button": "",
        "reach.asked_volunteers": "wait",
        "reach.asked_moderators": "wait",
        "reach.wait_hour": "",
        "reach.wait_hours": "n",
        "reach.wait_minutes": "n",
        "reach.already_open": "",
        "reach.nobody": "",
        "reach.unknown": "",
        "reach.own": "",
        "reach.already_taken": "",
        "reach.closed": "",
        "reach.someone": "",
        "reach.taken_member": "name",
        "reach.taken_volunteer": "",
        "reach.timeout": "",
        "gone.notice": "id",
        # trust: only a group's members reach into it; moderators' channels and rights (issue 12)
        "trust.checkin_members_only": "",
        "trust.checkin_unchecked": "",
        "trust.finish_not_member": "",
        "trust.finish_unchecked": "",
        "trust.share_not_member": "",
        "trust.share_unchecked": "",
        "trust.rights_unchecked": "",
        "trust.modchannel_refused": "",
        "trust.modchannel_unchecked": "",
        # reaching the member who asked, and /volunteer, /group audit, /group terms on Discord
        # (brief H7: Discord follow-ups)
        "reach.contact_button": "name",
        "reach.contact_button_plain": "",
        "telegram.contact_hidden": "",
        "discord.reach_contact": "mention",
        "commands.volunteer": "",
        "discord.sub.volunteer_on": "",
        "discord.sub.volunteer_off": "",
        "discord.sub.volunteer_quiet": "",
        "discord.sub.volunteer_status": "",
        "discord.sub.group_audit": "",
        "discord.sub.group_terms": "",
        "discord.option.volunteer_group": "",
        "discord.option.quiet_hours": "",
        "discord.option.terms_action": "",
        "discord.option.terms_phrase": "",
        "discord.choice.terms_list": "",
        "discord.choice.terms_add": "",
        "discord.choice.terms_remove": "",
        "discord.choice.terms_exclude": "",
        "discord.choice.terms_unexclude": "",
        "volunteer.help": "",
        "volunteer.unknown": "got",
        "volunteer.group_off": "",
        "volunteer.group_link": "",
        "volunteer.status_none": "",
        "volunteer.status_head": "",
        "volunteer.status_line": "group quiet",
        "volunteer.quiet_none": "",
        "volunteer.quiet_hours": "end start tz",
        "volunteer.unknown_group": "got",
        "volunteer.no_groups": "",
        "volunteer.which_group": "example groups",
        "volunteer.panel": "group state",
        "volunteer.state_on": "",
        "volunteer.state_off": "",
        "volunteer.on_button": "",
        "volunteer.off_button": "",
        "volunteer.opted_in": "example group quiet",
        "volunteer.opted_out": "group",
        "volunteer.not_volunteering": "group",
        "volunteer.quiet_not_volunteer": "",
        "volunteer.quiet_missing": "example",
        "volunteer.quiet_invalid": "example got",
        "volunteer.quiet_same": "example",
        "volunteer.quiet_saved": "end start tz",
        "volunteer.quiet_cleared": "",
        # group check-ins: /schedule, /group settings, the prompt, sharing, /remind (issue 6)
        "gcheckin.open_button": "",
        "gcheckin.unknown_post": "",
        "gcheckin.preview": "line",
        "gcheckin.post_it": "",
        "gcheckin.change_it": "",
        "gcheckin.keep_private": "",
        "gcheckin.shared": "",
        "gcheckin.kept_private": "",
        "gcheckin.already": "",
        "gcheckin.shared_line": "line name",
        "gcheckin.shared_mood": "mood name",
        "gcheckin.someone": "",
        "gcheckin.thanks_nothing": "",
        "gcheckin.mood_shared": "",
        "gcheckin.no_mood": "",
        "gcheckin.summary": "count high low middle reach",
        "gcheckin.prompt.default": "",
        "gcheckin.prompt.gentle": "",
        "schedule.not_moderator": "",
        "schedule.group_only": "",
        "schedule.usage": "",
        "schedule.time_missing": "example",
        "schedule.time_invalid": "example got",
        "schedule.tz_invalid": "example got",
        "schedule.tz_suggest": "example got suggestion",
        "schedule.prompt_too_long": "got limit",
        "schedule.too_many": "limit",
        "schedule.added": "days id next time tz",
        "schedule.tz_default": "tz",
        "schedule.list_head": "",
        "schedule.list_line": "days id next state time tz",
        "schedule.list_empty": "",
        "schedule.state_active": "",
        "schedule.state_paused": "",
        "schedule.next_none": "",
        "schedule.id_missing": "example",
        "schedule.not_found": "id",
        "schedule.preview": "id",
        "schedule.paused": "id",
        "schedule.resumed": "id next",
        "schedule.removed": "id",
        "schedule.date_missing": "example",
        "schedule.date_invalid": "example got",
        "schedule.date_past": "date example",
        "schedule.date_too_far": "date example",
        "schedule.skipped": "date id",
        "schedule.holiday_added": "date",
        "schedule.holiday_removed": "date",
        "schedule.holiday_none": "date",
        "schedule.holidays_list": "dates",
        "schedule.holidays_empty": "",
        "schedule.unknown": "got",
        "group.settings": "country mods summary timezone volunteers",
        "group.not_moderator": "",
        "group.group_only": "",
        "group.saved": "name value",
        "group.unknown_setting": "got",
        "group.value_missing": "example name",
        "group.country_invalid": "example got",
        "group.on_off_invalid": "example",
        "group.channel_invalid": "example",
        "group.on": "",
        "group.off": "",
        "group.summary_at": "time",
        "group.mods_none": "",
        "group.country_default": "country",
        # a group's own crisis terms, opt-in screening, retention (issue 7, brief H5)
        "gsafety.terms_not_moderator": "",
        "gsafety.terms_usage": "",
        "gsafety.terms_unknown": "got",
        "gsafety.terms_list": "count exclusions excluded limit terms",
        "gsafety.none_yet": "",
        "gsafety.term_added": "phrase",
        "gsafety.term_exists": "phrase",
        "gsafety.term_removed": "phrase",
        "gsafety.term_missing": "phrase",
        "gsafety.term_core": "phrase",
        "gsafety.exclusion_added": "phrase",
        "gsafety.exclusion_exists": "phrase",
        "gsafety.exclusion_removed": "phrase",
        "gsafety.exclusion_missing": "phrase",
        "gsafety.phrase_missing": "example",
        "gsafety.phrase_too_long": "example got limit",
        "gsafety.phrase_markup": "example",
        "gsafety.phrase_no_words": "example",
        "gsafety.too_many": "limit",
        "gsafety.settings_view": "exclusions retention screening terms",
        "gsafety.screening_on": "",
        "gsafety.screening_off": "",
        "gsafety.retention_own": "cap days",
        "gsafety.retention_default": "days",
        "gsafety.screening_now_on": "",
        "gsafety.screening_now_off": "",
        "gsafety.retention_saved": "days",
        "gsafety.retention_reset": "days",
        "gsafety.retention_over_cap": "cap got",
        "gsafety.retention_invalid": "example",
        "gsafety.retention_too_short": "example",
        "remind.nudge": "",
        "remind.checkin_now": "",
        "remind.none": "",
        "remind.status": "quiet state time tz",
        "remind.state_on": "",
        "remind.state_paused": "",
        "remind.quiet_none": "",
        "remind.set": "time tz",
        "remind.tz_needed": "example",
        "remind.paused": "",
        "remind.resumed": "",
        "remind.off": "",
        "remind.quiet_set": "days",
        "remind.days_invalid": "example got",
        "commands.remind": "",
        # grounding (/ground)
        "ground.menu": "items",
        "ground.item": "label id about",
        "ground.unknown": "name",
        "ground.unknown_plain": "",
        "ground.cold_off": "",
        "ground.pick_another": "",
        "ground.change_down": "before after",
        "ground.change_same": "before",
        "ground.change_up": "before after",
        "ground.change_unknown": "",
        "ground.still_high": "",
        "ground.kept": "",
        "ground.next": "",
        "ground.another": "",
        "ground.checkin": "",
        "ground.label.senses": "",
        "ground.label.paced": "",
        "ground.label.box": "",
        "ground.label.sigh": "",
        "ground.label.sober": "",
        "ground.label.surf": "",
        "ground.label.orient": "",
        "ground.label.cold": "",
        "ground.about.senses": "",
        "ground.about.paced": "",
        "ground.about.box": "",
        "ground.about.sigh": "",
        "ground.about.sober": "",
        "ground.about.surf": "",
        "ground.about.orient": "",
        "ground.about.cold": "",
        # safety plan (/safetyplan, and /crisis shows it first)
        "crisis.own_plan": "",
        "safetyplan.section_warning": "",
        "safetyplan.section_coping": "",
        "safetyplan.section_distract": "",
        "safetyplan.section_people": "",
        "safetyplan.section_pros": "",
        "safetyplan.section_safer": "",
        "safetyplan.not_written": "",
        "safetyplan.invite": "",
        "safetyplan.heading": "",
        "safetyplan.menu": "",
        "safetyplan.write_all": "",
        "safetyplan.write_one": "",
        "safetyplan.edit": "",
        "safetyplan.walk": "",
        "safetyplan.clear": "",
        "safetyplan.see_plan": "",
        "safetyplan.pick_edit": "",
        "safetyplan.pick_clear": "",
        "safetyplan.nothing_to_clear": "",
        "safetyplan.walk_intro": "",
        "safetyplan.current": "text",
        "safetyplan.saved": "section",
        "safetyplan.saved_step": "section",
        "safetyplan.unchanged": "section",
        "safetyplan.walk_done": "",
        "safetyplan.confirm_clear": "section",
        "safetyplan.clear_yes": "",
        "safetyplan.clear_no": "",
        "safetyplan.cleared": "section",
        "safetyplan.kept": "",
        "safetyplan.unknown": "",
        # day counters (/days)
        "days.invite": "",
        "days.heading": "",
        "days.counter": "name since run total longest",
        "days.one_day": "",
        "days.n_days": "n",
        "days.run_new": "",
        "days.add": "",
        "days.slip": "name",
        "days.remove": "name",
        "days.slip_which": "",
        "days.usage": "",
        "days.too_many": "limit",
        "days.add_skipped": "",
        "days.name_empty": "",
        "days.name_too_long": "got limit",
        "days.name_taken": "name",
        "days.date_unreadable": "example",
        "days.date_future": "date example",
        "days.date_too_early": "date example",
        "days.started": "name since",
        "days.slip_noted": "name",
        "days.not_found": "",
        "days.not_found_name": "",
        "days.none_yet": "",
        "days.confirm_remove": "name",
        "days.remove_yes": "",
        "days.remove_no": "",
        "days.removed": "name",
        "days.kept": "",
        "days.milestone_1": "name",
        "days.milestone_7": "name",
        "days.milestone_30": "name",
        "days.milestone_90": "name",
        "days.milestone_180": "name",
        "days.milestone_365": "name",
        "days.milestone_years": "name years",
        "days.reflect_declined": "",
        "days.reflect_skipped": "",
        "days.reflect_saved": "",
        "days.reflect_not_saved": "",
        "days.reflect_lost": "",
        # parts map and /parts talk (issue 3)
        "parts.map_empty": "",
        "parts.map_head": "",
        "parts.map_line": "name role",
        "parts.map_full": "limit",
        "parts.add": "",
        "parts.talk": "",
        "parts.close": "",
        "parts.closed": "",
        "parts.back_to_map": "",
        "parts.gone": "",
        "parts.not_found_name": "",
        "parts.detail_head": "name role",
        "parts.detail_note": "label text",
        "parts.detail_no_notes": "",
        "parts.open_talk": "",
        "parts.open_describe": "",
        "parts.open_role": "",
        "parts.open_rename": "",
        "parts.open_remove": "",
        "parts.name_empty": "",
        "parts.name_too_long": "got limit",
        "parts.name_taken": "name",
        "parts.add_no_name": "",
        "parts.added": "name",
        "parts.rename_intro": "name",
        "parts.renamed": "name old",
        "parts.unchanged": "name",
        "parts.describe_intro": "name",
        "parts.role_intro": "name role",
        "parts.updated": "name",
        "parts.remove_confirm": "name",
        "parts.remove_yes": "",
        "parts.remove_no": "",
        "parts.removed": "name",
        "parts.talk_intro": "",
        "parts.talk_new": "",
        "parts.talk_with": "name",
        "parts.talk_exile_named": "name",
        "parts.talk_to_ground": "",
        "parts.talk_ended": "",
        "parts.talk_thanks": "",
        "parts.talk_change": "after before",
        "parts.talk_saved": "name",
        "parts.talk_added": "name",
        "parts.talk_not_saved": "",
        "parts.talk_part_gone": "",
        "parts.talk_not_fitted": "fields",
        "parts.talk_offer_ground": "",
        "parts.learned_job": "text",
        "parts.learned_fear": "text",
        "parts.learned_image": "text",
        "parts.learned_how_long": "text",
        "parts.role.manager": "",
        "parts.role.firefighter": "",
        "parts.role.exile": "",
        "parts.role.unsure": "",
        "parts.role_about.manager": "",
        "parts.role_about.firefighter": "",
        "parts.role_about.exile": "",
        "parts.role_about.unsure": "",
        "parts.field.body": "",
        "parts.field.says": "",
        "parts.field.protects": "",
        "parts.field.notes": "",
        # hygiene (issue 12): taps and typed text held back when they come too fast
        "limits.slow_down_input": "",
        # Discord interactions: a day's thread that can't be started (issue 13 item 9)
        "gone.no_thread": "id",
        # issue 13: what a member meets (content/en/messages/member.toml, history.toml)
        "crisis.calm_plan": "",
        "ground.carried": "level",
        "welcome.reminder": "",
        "parts.role_for": "name",
        "parts.add_set_aside": "name",
        "country.typed_unknown": "",
        "input.tap_continue": "label",
        "history.kept_earlier": "count",
        "history.notes_button": "",
        "history.clear_button": "",
        "history.usage": "",
        "history.notes_none": "",
        "history.notes_head": "first last total",
        "history.entry": "when details",
        "history.entry_nothing": "when",
        "history.entry_mood": "mood",
        "history.entry_urge": "urge",
        "history.entry_note": "note",
        "history.open": "when",
        "history.older": "",
        "history.newer": "",
        "history.one_head": "when",
        "history.change_mood": "",
        "history.change_urge": "",
        "history.change_note": "",
        "history.add_note": "",
        "history.delete": "",
        "history.back_to_list": "",
        "history.not_found": "",
        "history.edit_intro": "when",
        "history.unchanged": "",
        "history.updated": "when",
        "history.delete_confirm": "when",
        "history.delete_yes": "",
        "history.delete_no": "",
        "history.deleted": "when",
        "history.kept": "",
        "history.clear_confirm": "checkins exercises",
        "history.clear_yes": "",
        "history.clear_no": "",
        "history.cleared": "checkins exercises",
        "history.nothing_to_clear": "",
        "checkin.nothing_answered": "",
        "consent.ask_delete": "checkins exercises",
        "consent.delete_kept": "",
        "consent.keep_kept": "",
        "consent.deleted_kept": "checkins exercises",
        "consent.kept_kept": "",
        "days.change": "name",
        "days.change_menu": "name",
        "days.slip_earlier": "",
        "days.undo_last": "",
        "days.rename": "",
        "days.change_start": "",
        "days.milestones": "",
        "days.back": "",
        "days.undo_button": "",
        "days.undone": "name date",
        "days.nothing_to_undo": "name",
        "days.renamed": "old name",
        "days.start_changed": "name since",
        "days.unchanged": "name",
        "days.slip_noted_on": "name date",
        "days.slip_before_start": "name since date example",
        "days.milestones_head": "name",
        "days.milestones_line": "length date",
        "days.milestones_none": "name",
        "days.one_year": "",
        "days.n_years": "n",
        # every member in their own language (issue 16): content/<locale>/messages/languages.toml
        "language.name": "",
        "language.english_name": "",
        "language.ask": "language",
        "language.follow_platform": "",
        "language.saved": "",
        "language.following": "language",
        "language.unknown": "got languages",
        "commands.language": "",
        "group.language_line": "language",
        "group.language_default": "language",
        "group.language_invalid": "example got languages",
        "discord.option.language": "",
        "discord.param.text": "",
        "discord.param.exercise": "",
        "discord.param.part": "",
        "discord.param.add": "",
        "discord.param.talk": "",
        "discord.param.slip": "",
        "discord.param.time": "",
        "discord.param.timezone": "",
        "discord.param.days": "",
        "discord.param.channel": "",
        "discord.param.prompt": "",
        "discord.param.number": "",
        "discord.param.date": "",
        "discord.param.action": "",
        "discord.param.setting": "",
        "discord.param.value": "",
        "discord.param.phrase": "",
        "discord.param.group": "",
        "discord.param.hours": "",
        "discord.param.language": "",
    }.items()
}

REQUIRED_FLOWS = (
    "welcome",
    "checkin",
    # parts map and /parts talk
    "parts_add",
    "parts_rename",
    "parts_describe",
    "parts_talk",
    # group check-ins (issue 6)
    "group_checkin",
    # safety plan and day counters
    "safetyplan",
    "days_add",
    "days_slip",
    # issue 13: changing a kept check-in, a day counter's name or start
    "history_edit",
    "days_edit",
    # grounding (/ground): one flow per exercise
    "ground_senses",
    "ground_paced",
    "ground_box",
    "ground_sigh",
    "ground_sober",
    "ground_surf",
    "ground_orient",
    "ground_cold",
)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    emergency: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ReflectionRule:
    id: str
    when: tuple[Condition, ...]
    text: str
    offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    locale: str
    messages: Mapping[str, str]
    flows: Mapping[str, Flow]
    reflections: tuple[ReflectionRule, ...]
    countries: Mapping[str, Country]
    # Which file each message came from, so a check names the right one.
    message_sources: Mapping[str, str] = field(default_factory=dict)
    # Flows that content defines, valid or not (an invalid one is reported where it is).
    declared_flows: frozenset[str] = frozenset()

    def text(self, key: str, **params: str | int) -> str:
        template = self.messages[key]
        return template.format(**params) if params else template

    def country(self, code: str) -> Country:
        return self.countries.get(code.upper()) or self.countries["INTL"]


class ContentLibrary:
    """Builds one merged catalog per locale: English, then the locale, then a group override."""

    def __init__(self, base: Path, override: Path | None = None) -> None:
        self._base = base
        self._override = override
        self._cache: dict[str, Catalog] = {}

    def catalog(self, locale: str = FALLBACK_LOCALE) -> Catalog:
        wanted = _locale_chain(locale)
        for candidate in wanted:
            if candidate in self._cache:
                return self._cache[candidate]
            if candidate == FALLBACK_LOCALE or (self._base / candidate).is_dir():
                problems = Problems()
                built = self.build(candidate, problems)
                if problems:
                    raise ContentError(problems)
                self._cache[candidate] = built
                return built
        raise AssertionError("the fallback locale always resolves")

    def locales(self) -> tuple[str, ...]:
        """The shipped locales: English first, then every folder named like a locale."""
        found: set[str] = set()
        for root in (self._base, self._override):
            if root is not None and root.is_dir():
                found |= {p.name for p in root.iterdir() if p.is_dir()}
        others = sorted(n for n in found if LOCALE_FOLDER.fullmatch(n) and n != FALLBACK_LOCALE)
        return (FALLBACK_LOCALE, *others)

    def load_all(self) -> None:
        """Validates every locale at start, so a bad file fails loudly once, not mid-chat."""
        problems = check_content(self._base, self._override)
        if problems:
            raise ContentError(problems)
        self.catalog(FALLBACK_LOCALE)

    def build(self, locale: str, problems: Problems) -> Catalog:
        """The merged catalog; every problem found goes into `problems`, none is raised."""
        layers = [self._base / FALLBACK_LOCALE]
        if locale != FALLBACK_LOCALE:
            layers.append(self._base / locale)
        if self._override is not None:
            layers += [self._override / FALLBACK_LOCALE, self._override / locale]
        raw = _Raw()
        for layer in layers:
            if layer.is_dir():
                raw.merge(_read_layer(layer, problems))
        return raw.build(locale, problems)


def _locale_chain(locale: str) -> list[str]:
    cleaned = "".join(ch for ch in locale if ch.isalnum() or ch in "-_")[:16]
    chain = [cleaned, cleaned.split("-")[0].split("_")[0], FALLBACK_LOCALE]
    return [c for i, c in enumerate(chain) if c and c not in chain[:i]]


@dataclass
class _Raw:
    messages: dict[str, tuple[str, str]]
    flows: dict[str, tuple[str, dict[str, Any]]]
    reflections: tuple[str, list[Any]] | None
    countries: dict[str, tuple[str, dict[str, Any]]]

    def __init__(self) -> None:
        self.messages, self.flows, self.reflections, self.countries = {}, {}, None, {}

    def merge(self, other: _Raw) -> None:
        self.messages.update(other.messages)
        self.flows.update(other.flows)
        self.countries.update(other.countries)
        if other.reflections is not None:
            self.reflections = other.reflections

    def build(self, locale: str, problems: Problems) -> Catalog:
        flows: dict[str, Flow] = {}
        for fid, (where, data) in self.flows.items():
            flow = parse_flow(data, where, problems)
            if flow is not None:
                flows[fid] = flow
        countries = {
            code: c
            for code, (where, data) in self.countries.items()
            if (c := _country(code, data, where, problems))
        }
        where, rules_raw = self.reflections or ("reflections.toml", [])
        rules = _reflections(rules_raw, where, problems)
        messages = {k: v for k, (_, v) in self.messages.items()}
        sources = {k: where for k, (where, _) in self.messages.items()}
        declared = frozenset(self.flows)
        return Catalog(locale, messages, flows, rules, countries, sources, declared)


def _read_layer(folder: Path, problems: Problems) -> _Raw:
    raw = _Raw()
    # messages.toml, plus one file per feature in messages/, all in one key space.
    message_files = [folder / "messages.toml", *sorted((folder / "messages").glob("*.toml"))]
    for messages_file in message_files:
        if (data := _load(messages_file, problems)) is None:
            continue
        for key, value in _flatten(data):
            if not isinstance(value, str):
                problems.add(str(messages_file), key, "must be text")
            elif key in raw.messages:
                problems.add(str(messages_file), key, f"is also defined in {raw.messages[key][0]}")
            else:
                raw.messages[key] = (str(messages_file), value)
    flows_dir = folder / "flows"
    if flows_dir.is_dir():
        for path in sorted(flows_dir.glob("*.toml")):
            if (data := _load(path, problems)) is not None:
                fid = data.get("id")
                if not isinstance(fid, str):
                    problems.add(str(path), "id", "every flow needs an id")
                    continue
                if fid in raw.flows:
                    problems.add(str(path), "id", f'flow "{fid}" is defined twice')
                raw.flows[fid] = (str(path), data)
    reflections_file = folder / "reflections.toml"
    if (data := _load(reflections_file, problems)) is not None:
        rules = data.get("rules", [])
        raw.reflections = (str(reflections_file), rules if isinstance(rules, list) else [])
    crisis_file = folder / "crisis.toml"
    if (data := _load(crisis_file, problems)) is not None:
        countries = data.get("countries", {})
        if not isinstance(countries, dict):
            problems.add(str(crisis_file), "countries", "must be a table of [countries.<CODE>]")
        else:
            for code, entry in countries.items():
                raw.countries[code.upper()] = (str(crisis_file), entry)
    return raw


def _load(path: Path, problems: Problems) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        problems.add(str(path), "", f"is not valid TOML ({exc})")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(str(path), "", f"cannot be read ({exc.__class__.__name__})")
    return None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _country(code: str, data: Any, where: str, problems: Problems) -> Country | None:
    key = f"countries.{code}"
    if not isinstance(data, dict):
        problems.add(where, key, "must be a table")
        return None
    name, emergency, lines = data.get("name"), data.get("emergency"), data.get("lines", [])
    if not isinstance(name, str) or not isinstance(emergency, str):
        problems.add(
            where, key, 'needs name and emergency, e.g. name = "Canada", emergency = "911"'
        )
        return None
    if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
        problems.add(where, f"{key}.lines", "needs at least one line of text")
        return None
    return Country(code, name, emergency, tuple(lines))


def _reflections(raw: list[Any], where: str, problems: Problems) -> tuple[ReflectionRule, ...]:
    rules: list[ReflectionRule] = []
    for i, item in enumerate(raw):
        key = f"rules[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            problems.add(
                where,
                key,
                'needs id, text and when, e.g. when = [{ answer = "urge", op = "gte", value = 7 }]',
            )
            continue
        when = item.get("when", [])
        when = [when] if isinstance(when, dict) else when
        conds = tuple(
            c for j, w in enumerate(when) if (c := _cond(w, f"{key}.when[{j}]", where, problems))
        )
        offers = item.get("offers", [])
        if not isinstance(offers, list) or not all(isinstance(o, str) for o in offers):
            problems.add(where, f"{key}.offers", 'must be a list like ["ground"]')
            offers = []
        rules.append(ReflectionRule(str(item.get("id", key)), conds, item["text"], tuple(offers)))
    return tuple(rules)


def check_content(base: Path, override: Path | None = None) -> Problems:
    """Everything `unblend content check` reports: schema, references, limits, placeholders."""
    problems = Problems()
    if not (base / FALLBACK_LOCALE).is_dir():
        problems.add(str(base), "", f"has no {FALLBACK_LOCALE}/ folder; English is the fallback")
        return problems
    locales = sorted(
        p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )
    library = ContentLibrary(base, override)
    for locale in locales:
        catalog = library.build(locale, problems)
        _check_catalog(catalog, base / locale, problems)
    # Many problems repeat once per locale through the English fallback: report each once.
    unique = list(dict.fromkeys(problems.items))
    problems.items[:] = unique
    return problems


# A slash command option's name in a locale (Discord's rule for names).
OPTION_NAME_PREFIX = "discord.param."
OPTION_NAME = re.compile(r"[-_\w]{1,32}")


def _option_name(value: str) -> bool:
    return bool(OPTION_NAME.fullmatch(value)) and value == value.lower()


def _check_catalog(catalog: Catalog, folder: Path, problems: Problems) -> None:
    default_where = str(folder / "messages.toml")
    for key, fields in REQUIRED_MESSAGES.items():
        where = catalog.message_sources.get(key, default_where)
        if key not in catalog.messages:
            problems.add(where, key, "is missing")
            continue
        try:
            used = {
                name for _, name, _, _ in string.Formatter().parse(catalog.messages[key]) if name
            }
        except ValueError as exc:
            problems.add(where, key, f"has a broken placeholder ({exc}); write {{{{ for a brace")
            continue
        if unknown := used - fields:
            allowed = ", ".join(sorted(fields)) or "none"
            problems.add(
                where,
                key,
                f"uses {{{', '.join(sorted(unknown))}}}; allowed placeholders: {allowed}",
            )
    for key, value in catalog.messages.items():
        if key.startswith(OPTION_NAME_PREFIX) and not _option_name(value):
            where = catalog.message_sources.get(key, default_where)
            problems.add(
                where, key, "an option's name: 1-32 lower-case letters, digits, - or _, no spaces"
            )
        if len(value) > MAX_TEXT:
            where = catalog.message_sources.get(key, default_where)
            problems.add(where, key, f"is {len(value)} characters; the limit is {MAX_TEXT}")
    for fid in REQUIRED_FLOWS:
        if fid not in catalog.declared_flows:
            problems.add(str(folder / "flows"), fid, "this flow is required")
    for rule in catalog.reflections:
        for offer in rule.offers:
            if offer not in catalog.flows and offer not in {"history", "ground"}:
                problems.add(str(folder / "reflections.toml"), rule.id, f'offers unknown "{offer}"')
    if "INTL" not in catalog.countries:
        problems.add(
            str(folder / "crisis.toml"), "countries.INTL", "the fallback entry is required"
        )
