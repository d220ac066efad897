"""Spanish is a whole translation: every English key, flow, step and placeholder, read on its own.

The loader puts English under every locale, so a key missing from content/es/ would silently
show in English. These tests read the Spanish folder alone (as the only layer the loader sees)
and hold it against the English catalog; a Spanish-speaking member never meets English text.
"""

from __future__ import annotations

import re
import shutil
import string
from dataclasses import replace
from pathlib import Path

import pytest

from bots.bootstrap import bundled_content_dir
from core.app import Unblend
from core.kernel.catalog import Catalog, ContentLibrary, check_content
from core.kernel.flows.schema import Flow, Step
from core.kernel.model import Event
from core.kernel.problems import Problems
from core.privacy.data import POLICY_FILE, PolicyFacts, policy_text
from tests.chat import Chat

# Where each platform draws the line (Discord: slash descriptions and choices 100, modal title
# and input label 45, button label 80; Telegram: menu descriptions 256).
DISCORD_DESCRIPTION = 100
DISCORD_MODAL = 45
BUTTON_LABEL = 80
TELEGRAM_COMMAND = 256
SHORT_ENGLISH = 40
# Countries of the Spanish-speaking members the groups serve, and the US line's Spanish option.
SPANISH_SPEAKING = ("ES", "MX", "AR", "CO", "CL", "PE", "UY", "US")
# Commanding words the content rules out ("you must", "you should"), in Spanish.
# What the published policy fills in from the config: $contact, $retention_days...
FACT = re.compile(r"\$(\w+)")
COMMANDING = re.compile(r"\b(tienes que|debes|deberías|debería usted)\b", re.IGNORECASE)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def english() -> Catalog:
    return ContentLibrary(bundled_content_dir()).catalog("en")


@pytest.fixture(scope="module")
def spanish_alone(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """content/es/ as the only layer: no English underneath to hide a gap."""
    base = tmp_path_factory.mktemp("es_alone") / "content"
    shutil.copytree(bundled_content_dir() / "es", base / "en")
    problems = Problems()
    catalog = ContentLibrary(base).build("en", problems)
    assert problems.lines() == []
    return catalog


def test_spanish_passes_the_content_check_on_its_own(tmp_path: Path, content_dir: Path) -> None:
    # Spanish as the only locale: every required key, flow, length limit and placeholder.
    base = tmp_path / "content"
    shutil.copytree(content_dir / "es", base / "en")
    assert check_content(base).lines() == []
    assert check_content(content_dir).lines() == []


def test_every_english_message_is_in_spanish_with_the_same_placeholders(
    english: Catalog, spanish_alone: Catalog
) -> None:
    missing = sorted(set(english.messages) - set(spanish_alone.messages))
    stale = sorted(set(spanish_alone.messages) - set(english.messages))
    assert missing == [], f"not translated yet: {missing}"
    assert stale == [], f"no longer in English: {stale}"
    for key, text in english.messages.items():
        assert _placeholders(spanish_alone.messages[key]) == _placeholders(text), key


def _shape(step: Step) -> tuple[object, ...]:
    """Everything about a step except its words."""
    return (
        step.kind,
        step.next,
        step.branches,
        tuple(o.id for o in step.options),
        step.options_from,
        step.min,
        step.max,
        step.max_length,
        step.seconds,
        step.validate,
        step.safety_context,
        bool(step.intro),
        bool(step.continue_label),
        bool(step.low_label),
        bool(step.high_label),
    )


def _texts(flow: Flow) -> list[tuple[str, str]]:
    found = [("title", flow.title), ("end_text", flow.end_text)]
    for sid, step in flow.steps.items():
        found += [
            (f"{sid}.text", step.text),
            (f"{sid}.intro", step.intro),
            (f"{sid}.continue_label", step.continue_label),
            (f"{sid}.low_label", step.low_label),
            (f"{sid}.high_label", step.high_label),
        ]
        found += [(f"{sid}.options.{o.id}", o.label) for o in step.options]
    return found


def test_every_english_flow_is_in_spanish_with_the_same_steps_and_options(
    english: Catalog, spanish_alone: Catalog
) -> None:
    assert sorted(spanish_alone.flows) == sorted(english.flows)
    for fid, en in english.flows.items():
        es = spanish_alone.flows[fid]
        assert (es.start, es.finish) == (en.start, en.finish), fid
        assert list(es.steps) == list(en.steps), fid
        for sid, step in en.steps.items():
            assert _shape(es.steps[sid]) == _shape(step), f"{fid}.{sid}"
        for (where, en_text), (_, es_text) in zip(_texts(en), _texts(es), strict=True):
            assert _placeholders(es_text) == _placeholders(en_text), f"{fid}.{where}"


def test_reflections_keep_every_rule_condition_and_offer(
    english: Catalog, spanish_alone: Catalog
) -> None:
    shape = [(r.id, r.when, r.offers, bool(r.text)) for r in english.reflections]
    assert [(r.id, r.when, r.offers, bool(r.text)) for r in spanish_alone.reflections] == shape


def test_crisis_lines_for_every_spanish_speaking_country(
    english: Catalog, spanish_alone: Catalog
) -> None:
    countries = spanish_alone.countries
    assert set(english.countries) <= set(countries)
    for code in (*SPANISH_SPEAKING, "INTL"):
        assert code in countries, code
        country = countries[code]
        assert country.name.strip() and country.emergency.strip(), code
        assert country.lines and all(line.strip() for line in country.lines), code
    # The lines a member in crisis is told to call, as the sources give them.
    assert "112" in countries["ES"].emergency
    assert any("024" in line for line in countries["ES"].lines)
    assert any("988" in line and "AYUDA" in line for line in countries["US"].lines)


def test_a_spanish_member_gets_spanish_through_the_locale_chain(content_dir: Path) -> None:
    library = ContentLibrary(content_dir)
    for locale in ("es", "es-ES", "es-419", "es_MX"):
        catalog = library.catalog(locale)
        assert catalog.locale == "es"
        assert catalog.text("crisis.ask_safe") == "¿Estás a salvo ahora mismo?"
        assert catalog.country("ES").lines[0].startswith("024")
        # Every message comes from the Spanish folder, none from the English fallback.
        assert all("/es/" in where for where in catalog.message_sources.values())


def test_platform_limits_hold_in_spanish(english: Catalog, spanish_alone: Catalog) -> None:
    messages = spanish_alone.messages
    for key, text in messages.items():
        if key.startswith(("discord.option.", "discord.sub.", "discord.command.")):
            assert 1 <= len(text) <= DISCORD_DESCRIPTION, key
        if key.startswith(("discord.choice.", "commands.")):
            assert 1 <= len(text) <= DISCORD_DESCRIPTION <= TELEGRAM_COMMAND, key
    for key in ("discord.modal_title", "discord.modal_label"):
        assert len(messages[key]) <= DISCORD_MODAL, key
    # Buttons, labels and values are the short English texts: in Spanish they still fit a button.
    labels = [k for k, text in english.messages.items() if len(text) <= SHORT_ENGLISH]
    assert {"nav.stop", "crisis.safe_no", "support.with_words"} <= set(labels)
    for key in labels:
        assert len(messages[key]) <= BUTTON_LABEL, key
    for country in spanish_alone.countries.values():
        assert len(country.name) <= BUTTON_LABEL, country.code


def test_spanish_invites_rather_than_commands(spanish_alone: Catalog) -> None:
    texts = list(spanish_alone.messages.values())
    texts += [t for f in spanish_alone.flows.values() for _, t in _texts(f)]
    texts += [r.text for r in spanish_alone.reflections]
    for text in texts:
        assert not COMMANDING.search(text), text


def test_the_spanish_privacy_policy_fills_every_fact(content_dir: Path) -> None:
    facts = PolicyFacts("admins@example.org", 30, 365, "data/unblend.db", "UNBLEND_KEY")
    policies = {locale: (content_dir / locale / POLICY_FILE).read_text() for locale in ("en", "es")}
    assert set(FACT.findall(policies["es"])) == set(FACT.findall(policies["en"]))
    text = policy_text(content_dir, facts, "es")
    assert text.startswith("# Política de privacidad")
    assert "$" not in text and "admins@example.org" in text and "365 días" in text


class SpanishChat(Chat):
    """A member whose platform says Latin American Spanish (Discord's es-419)."""

    def _event(self, **kwargs: object) -> Event:
        return replace(super()._event(**kwargs), locale="es-419")


async def test_a_spanish_speaking_member_is_answered_in_spanish_from_start_to_crisis(
    app: Unblend,
) -> None:
    chat = SpanishChat(app)
    await chat.send("/start")
    assert "Hola, soy Unblend" in chat.text()
    await chat.tap("De acuerdo")
    await chat.tap("Sí, guardarlos")
    await chat.send("/checkin")
    assert "¿Cómo está tu ánimo ahora mismo?" in chat.text()
    await chat.tap("3")
    await chat.tap("4")
    await chat.tap("No lo sé")
    await chat.tap("Cansancio")
    await chat.tap("Saltar")
    assert "Gracias por hacer tu check-in. Lo guardé en privado." in chat.text()
    await chat.send("/ground")
    assert "Surfear el impulso" in chat.text() and "Pies y manos" in chat.text()
    await chat.send("/parts")
    await chat.tap("Hablar con una parte")
    assert "Son unos 10 minutos" in chat.text()
    await chat.send("/stop")
    await chat.send("/country ES")
    await chat.send("/crisis")
    assert "Personas a las que puedes acudir (España):" in chat.text()
    assert "024" in chat.text() and "llama al 112" in chat.text()
    assert chat.labels()[:2] == ["Por ahora estoy a salvo", "No estoy a salvo"]


SOURCE = re.compile(r"[a-z0-9-]+\.[a-z]{2,}(?:/|\b)", re.IGNORECASE)


def test_every_number_of_a_spanish_speaking_country_names_its_source(content_dir: Path) -> None:
    """Issue 16 item 5: each emergency number and line has the source it was found in, in a
    comment right above it (a number without a source is left out)."""
    lines = (content_dir / "es" / "crisis.toml").read_text().splitlines()
    section, checked = "", 0
    above: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[countries."):
            section, above = stripped[len("[countries.") : -1], []
            continue
        if stripped.startswith("#"):
            above.append(stripped)
            continue
        value = stripped.startswith(("emergency =", '"'))
        if section in SPANISH_SPEAKING and value:
            assert any(SOURCE.search(c) for c in above), f"{section}: {stripped[:60]}"
            checked += 1
        if stripped:
            above = []
    assert checked >= 2 * len(SPANISH_SPEAKING)
